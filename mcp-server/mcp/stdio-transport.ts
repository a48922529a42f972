import process from "node:process";
import { deserializeMessage, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/** The largest JSON-RPC message `canary mcp` reads (one line on stdin). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

// Clients put the id last ({..., "jsonrpc": "2.0", "id": 7}); the tail of a refused message is
// kept so the refusal can answer the request it refuses.
const TAIL_BYTES = 256;
const ID_AT_END = /"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*\}\s*$/;

/**
 * MCP over stdio, one JSON-RPC message per line, like the SDK's transport except for messages over
 * MAX_MESSAGE_BYTES: the SDK's closes the connection (the server exits quietly and the client
 * meets EPIPE); this one skips the oversized line, answers it with a JSON-RPC error naming the
 * limit, and keeps serving.
 */
export class BoundedStdioServerTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the current line seen so far, once it is over the limit (then only its tail is kept). */
  private skipped = 0;
  private tail = Buffer.alloc(0);

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  private readonly ondata = (chunk: Buffer) => {
    let rest = chunk;
    for (;;) {
      const nl = rest.indexOf(10);
      const piece = nl === -1 ? rest : rest.subarray(0, nl);
      this.take(piece);
      if (nl === -1) return;
      this.endLine();
      rest = rest.subarray(nl + 1);
    }
  };

  private readonly onstreamerror = (error: Error) => this.onerror?.(error);

  private take(piece: Buffer): void {
    if (this.skipped === 0 && this.size + piece.length <= this.maxBytes) {
      this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    if (this.skipped === 0) {
      this.skipped = this.size;
      this.tail = Buffer.concat(this.parts).subarray(-TAIL_BYTES);
      this.parts = [];
      this.size = 0;
    }
    this.skipped += piece.length;
    this.tail = Buffer.concat([this.tail, piece]).subarray(-TAIL_BYTES);
  }

  private endLine(): void {
    if (this.skipped > 0) {
      const bytes = this.skipped;
      const id = ID_AT_END.exec(this.tail.toString("utf8"))?.[1];
      this.skipped = 0;
      this.tail = Buffer.alloc(0);
      void this.refuse(bytes, id === undefined ? null : (JSON.parse(id) as string | number));
      return;
    }
    const line = Buffer.concat(this.parts).toString("utf8").replace(/\r$/, "");
    this.parts = [];
    this.size = 0;
    if (line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.onmessage?.(message);
  }

  private refuse(bytes: number, id: string | number | null): Promise<void> {
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const error = {
      jsonrpc: "2.0" as const,
      id,
      error: {
        code: -32600,
        message: `message of ${mib(bytes)} is over the limit of ${mib(this.maxBytes)} per message; it was not read. Send metrics in smaller calls (record_metrics takes up to 10 000 slices), or bulk-load them with \`canary ingest\``,
      },
    };
    this.onerror?.(new Error(error.error.message));
    return this.write(JSON.stringify(error));
  }

  private write(json: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${json}\n`)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }

  async start(): Promise<void> {
    this.stdin.on("data", this.ondata);
    this.stdin.on("error", this.onstreamerror);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(serializeMessage(message).trimEnd());
  }

  async close(): Promise<void> {
    this.stdin.off("data", this.ondata);
    this.stdin.off("error", this.onstreamerror);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.parts = [];
    this.onclose?.();
  }
}
