import { Client, type ClientConfig } from 'pg';
import type { NotificationHandlers } from './db';

/**
 * A dedicated connection that LISTENs on one channel (a pooled connection cannot: LISTEN belongs to a
 * session). When it is lost it reconnects with backoff and reports a gap, since NOTIFYs sent meanwhile are
 * gone; the caller then treats everything it derived from notifications as unknown.
 */
export async function listenPostgres(
  config: ClientConfig,
  channel: string,
  handlers: NotificationHandlers,
): Promise<() => Promise<void>> {
  let client: Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delayMs = 100;

  const connect = async (): Promise<void> => {
    const c = new Client(config);
    c.on('notification', (msg) => {
      if (msg.channel === channel) {
        handlers.onNotify(msg.payload ?? '');
      }
    });
    c.on('error', () => {
      lost(c);
    });
    c.on('end', () => {
      lost(c);
    });
    try {
      await c.connect();
      // Quoted: the channel name is ours (a constant), not input.
      await c.query(`LISTEN "${channel}"`);
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    client = c;
    delayMs = 100;
  };
  const lost = (c: Client): void => {
    if (client !== c || stopped) {
      return;
    }
    client = undefined;
    c.end().catch(() => undefined);
    handlers.onGap();
    schedule();
  };
  const schedule = (): void => {
    if (stopped || retryTimer) {
      return;
    }
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        () => {
          // Anything sent while we were away is lost: say so once we listen again, too.
          handlers.onGap();
        },
        () => {
          delayMs = Math.min(delayMs * 2, 5000);
          schedule();
        },
      );
    }, delayMs);
    retryTimer.unref();
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retryTimer);
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
  };
}
