// A minimal loopback HTTP server for the demo and tools: node:http behind a runtime-neutral
// handler shape, so nothing above src/runtime imports `node:`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface LoopbackServer {
  /** `http://localhost:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Listens on 127.0.0.1 on a free port. */
export function startLoopbackServer(handler: NodeHandler): Promise<LoopbackServer> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://localhost:${port}`,
        port,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections?.();
            server.close(() => res());
          }),
      });
    });
  });
}
