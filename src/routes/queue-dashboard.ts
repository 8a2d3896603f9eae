import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The BullMQ queue dashboard (Bull Board) at /admin/queues, as a browser can use it under the gateway's
 * Content-Security-Policy: its page links IBM Plex from Google Fonts, which is dropped (the page falls back to
 * the system font; nothing is fetched from a third party), and its own Express app does not announce itself
 * (X-Powered-By). Its scripts, styles and images are served from the package itself (static/).
 */
export function queueDashboard(queues: Queue[], basePath: string): RequestHandler[] {
  const board = new ExpressAdapter();
  board.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter: board,
    options: {
      uiConfig: {
        boardTitle: 'Sektorbro queues',
        hideDocsLink: true,
        miscLinks: [{ text: 'Sign out', url: '/logout' }],
      },
    },
  });
  const app = board.getRouter() as Express;
  app.disable('x-powered-by');
  return [withoutThirdPartyFonts, app];
}

const THIRD_PARTY_LINK = /<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>\s*/gi;

function withoutThirdPartyFonts(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => send(typeof body === 'string' ? body.replace(THIRD_PARTY_LINK, '') : body);
  next();
}
