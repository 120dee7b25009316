import net from 'node:net';

/** Whether something accepts connections: a loopback TCP port, or a Unix socket at this path. */
export function canConnect(target: number | string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      typeof target === 'number'
        ? net.connect({ host: '127.0.0.1', port: target })
        : net.connect({ path: target });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
