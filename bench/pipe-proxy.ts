/**
 * The floor for the proxy: the least a Node proxy can do on the same path.
 * It reads the request, sends the direct request's body upstream over a
 * keep-alive agent, and pipes the answer back byte for byte, with no parsing.
 * Whatever it costs over a direct connection, any Node proxy pays.
 */
import http from "node:http";

const upstream = new URL(`${process.argv[2]}/responses`);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const { model, input } = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; input: string };
    const body = JSON.stringify({
      model,
      instructions: "",
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }],
      stream: true,
      store: false,
    });
    const headers = {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      authorization: "Bearer bench",
      "chatgpt-account-id": "acct_bench",
      accept: "text/event-stream",
    };
    const request = http.request(upstream, { method: "POST", agent, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { "content-type": "text/event-stream" });
      answer.pipe(res);
    });
    request.on("error", () => res.destroy());
    request.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })}\n`,
  );
});
process.on("SIGTERM", () => process.exit(0));
