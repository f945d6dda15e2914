/** The last requests the proxy answered, for `GET /v1/pool` and the status page: no content, only facts. */

export interface RecentRequest {
  /** Epoch ms when the answer's headers went out. */
  time: number;
  method: string;
  path: string;
  model?: string;
  account?: string;
  status: number;
  ms: number;
}

export class RecentRequests {
  private readonly entries: RecentRequest[] = [];

  constructor(private readonly capacity = 50) {}

  add(entry: RecentRequest): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  list(): RecentRequest[] {
    return [...this.entries].reverse();
  }
}
