import { createServer, type Server } from 'node:net';
import { isAddressInUse, type PortedComponent, PortInUseError, portedComponents } from './errors';

/** A port nobody listens on right now, chosen by the operating system. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('The OS gave no free port.'))));
    });
  });
}

/** Whether something already listens on `port` (on any interface, as the Java and SQS servers bind). */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error) => (isAddressInUse(error) ? resolve(false) : reject(error)));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Fails fast, before the JVM is started, when a fixed port is taken. Port 0 means "any free
 * port" and is never checked.
 */
export async function assertPortsFree(ports: Partial<Record<PortedComponent, number>>): Promise<void> {
  for (const component of portedComponents) {
    const port = ports[component];
    if (port !== undefined && port !== 0 && !(await isPortFree(port))) {
      throw new PortInUseError({ port, component });
    }
  }
}

/** Starts `server` on loopback: the local stack has the real API's keys but none of its protections. */
export function listenOnLoopback(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
