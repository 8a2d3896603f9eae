import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config';
import { startGateway } from './gateway';
import { createHttpServer } from './limits/http-server';

/**
 * The gateway process: read configuration (a bad value stops start-up and names it), start, listen, and
 * on SIGTERM/SIGINT stop intake (503), let in-flight deliveries finish, and close every connection.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const gateway = await startGateway(config);
  const server: Server = createHttpServer(gateway.app, config.limits).listen(config.port, () => {
    gateway.logger.info(
      {
        port: config.port,
        database: gateway.db.kind,
        publicBaseUrl: config.publicBaseUrl,
        startupMs: Math.round(process.uptime() * 1000),
        docs: `${config.publicBaseUrl}/docs`,
      },
      'sektorbro gateway listening',
    );
  });
  server.on('error', (err) => {
    gateway.logger.fatal({ err }, 'cannot listen');
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    gateway.logger.info({ signal }, 'shutting down: intake closed, finishing in-flight work');
    gateway.beginShutdown();
    const force = setTimeout(() => {
      gateway.logger.error('shutdown took too long; exiting (unfinished jobs run again after restart)');
      process.exit(1);
    }, 30000);
    force.unref();
    server.close();
    server.closeIdleConnections();
    gateway
      .close()
      .then(() => {
        gateway.logger.info('shutdown complete');
        process.exit(0);
      })
      .catch((err: unknown) => {
        gateway.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`sektorbro failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
