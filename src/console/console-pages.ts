import { escapeXml } from '../errors';
import type { DeadLetter } from '../store/dead-letters';
import type { TrafficItem } from '../tracking/traffic';
import {
  BUCKET_MINUTES,
  BUCKETS,
  WINDOW_MINUTES,
  displayEndpoint,
  type EndpointHealth,
  type QueueDepth,
  type RecentMessage,
  type RecipientFlow,
  type Series,
  type SubscriptionHealth,
} from './console-stats';

/**
 * The operator console's pages, rendered on the server as plain HTML: headings, tables with header cells and
 * captions, labelled form fields, `lang="en"`, and no script at all (so the gateway's Content-Security-Policy,
 * which allows scripts only from the gateway and none inline, has nothing to allow). Charts are inline SVG with
 * a title and description, each followed by the same numbers in a table for screen readers and for copying.
 * Every value from the database goes through escapeXml.
 */

const h = (value: string | number | null | undefined): string =>
  escapeXml(value === null || value === undefined ? '' : String(value));

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}
header{background:#123b5c;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff}header nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}
header form{margin-left:auto}main{padding:0 1rem 2rem;max-width:80rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#eef2f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#a00000;font-weight:600}.ok{color:#0b6b2e}
.notice{border:2px solid #0b6b2e;padding:.5rem}.alert{border:2px solid #a00000;padding:.5rem}
figure{margin:1rem 0}svg{max-width:100%;height:auto}.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}
.swatch{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:middle;border:1px solid #333}
form.inline{display:flex;gap:.4rem;align-items:center;flex-wrap:wrap;margin:.2rem 0}label{font-size:.85rem}
a:focus,button:focus,input:focus{outline:3px solid #e69f00;outline-offset:1px}`;

/** Okabe–Ito colours: told apart with the common colour-vision deficiencies. */
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#999999'];
const MAX_SERIES = 6;

export function layout(
  title: string,
  csrfToken: string | undefined,
  body: string,
  options: { refreshS?: number } = {},
): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshS ? `<meta http-equiv="refresh" content="${options.refreshS}">` : ''}
<title>${h(title)} · Sektorbro console</title>
<style>${STYLE}</style>
</head><body>
<header><a href="/console"><strong>Sektorbro console</strong></a>
<nav aria-label="Console"><ul>
<li><a href="/console">Overview</a></li><li><a href="/console/messages">Messages</a></li>
<li><a href="/console/dead-letters">Dead letters</a></li><li><a href="/console/care">Care after discharge</a></li><li><a href="/admin/queues">Queue dashboard</a></li>
</ul></nav>
${csrfToken ? `<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${h(csrfToken)}"><button type="submit">Sign out</button></form>` : ''}
</header>
<main>
<h1>${h(title)}</h1>
${body}
</main></body></html>`;
}

export interface OverviewData {
  now: Date;
  byKind: Series[];
  byRecipient: Series[];
  recipients: RecipientFlow[];
  endpoints: EndpointHealth[];
  queues: QueueDepth[];
  subscriptions: SubscriptionHealth;
  deadLetterCount: number;
}

export function overviewPage(d: OverviewData, csrfToken: string | undefined): string {
  const inFlight = d.recipients.reduce((s, r) => s + r.inFlight, 0);
  const lastFive = d.recipients.reduce((s, r) => s + r.lastFiveMinutes, 0);
  const summary = `<p>As of <time datetime="${h(d.now.toISOString())}">${h(clock(d.now))} UTC</time> (this page reloads every 30 s):
<strong>${lastFive}</strong> deliveries created in the last ${BUCKET_MINUTES} minutes, <strong>${inFlight}</strong> in flight,
<a href="/console/dead-letters"><strong>${d.deadLetterCount}</strong> dead letter${d.deadLetterCount === 1 ? '' : 's'}</a> waiting.</p>`;
  return layout(
    'Overview',
    csrfToken,
    `${summary}
<section aria-labelledby="flow-kind"><h2 id="flow-kind">Messages in the last hour, per kind</h2>
${chart('chart-kind', 'Messages accepted per 5 minutes, by kind', d.byKind, d.now)}</section>
<section aria-labelledby="flow-recipient"><h2 id="flow-recipient">Deliveries in the last hour, per recipient</h2>
${chart('chart-recipient', 'Deliveries created per 5 minutes, by recipient', d.byRecipient, d.now)}
${recipientTable(d.recipients)}</section>
<section aria-labelledby="endpoints"><h2 id="endpoints">Endpoints</h2>${endpointTable(d.endpoints)}</section>
<section aria-labelledby="queues"><h2 id="queues">Queue depth</h2>${queueTable(d.queues)}</section>
<section aria-labelledby="subscriptions"><h2 id="subscriptions">Subscriptions</h2>${subscriptionTables(d.subscriptions)}</section>`,
    { refreshS: 30 },
  );
}

/** Bucket start times, oldest first, as HH:MM (UTC). */
function bucketLabels(now: Date): string[] {
  return Array.from({ length: BUCKETS }, (_, i) =>
    clock(new Date(now.getTime() - (BUCKETS - i) * BUCKET_MINUTES * 60_000)),
  );
}

/** The top series and the rest summed as "other", so the legend stays readable. */
function topSeries(series: Series[]): Series[] {
  if (series.length <= MAX_SERIES) {
    return series;
  }
  const rest = series.slice(MAX_SERIES);
  const other: Series = {
    key: '(other)',
    label: `${rest.length} others`,
    counts: Array.from({ length: BUCKETS }, (_, i) => rest.reduce((s, r) => s + (r.counts[i] ?? 0), 0)),
    total: rest.reduce((s, r) => s + r.total, 0),
  };
  return [...series.slice(0, MAX_SERIES), other];
}

/**
 * A stacked bar chart (one bar per 5-minute bucket of the last hour) as inline SVG, with its legend and a data
 * table giving the same numbers.
 */
export function chart(id: string, title: string, all: Series[], now: Date): string {
  const series = topSeries(all);
  const labels = bucketLabels(now);
  const totals = labels.map((_, i) => series.reduce((s, r) => s + (r.counts[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const width = 720;
  const height = 220;
  const left = 40;
  const bottom = 30;
  const plotH = height - bottom - 10;
  const slot = (width - left - 10) / BUCKETS;
  const bars: string[] = [];
  labels.forEach((label, i) => {
    let y = height - bottom;
    series.forEach((s, k) => {
      const n = s.counts[i] ?? 0;
      if (n > 0) {
        const barH = (n / max) * plotH;
        y -= barH;
        bars.push(
          `<rect x="${(left + i * slot + 3).toFixed(1)}" y="${y.toFixed(1)}" width="${(slot - 6).toFixed(1)}" height="${barH.toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${h(label)}: ${h(s.label)} ${n}</title></rect>`,
        );
      }
    });
    if (i % 2 === 0) {
      bars.push(
        `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - 10}" font-size="11" text-anchor="middle">${h(label)}</text>`,
      );
    }
  });
  const total = series.reduce((s, r) => s + r.total, 0);
  const desc =
    total === 0
      ? `Nothing in the last ${WINDOW_MINUTES} minutes.`
      : `${total} in the last ${WINDOW_MINUTES} minutes: ${series.map((s) => `${s.label} ${s.total}`).join(', ')}. Busiest 5 minutes: ${max}.`;
  const svg = `<svg id="${id}" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-title">${h(title)}</title><desc id="${id}-desc">${h(desc)}</desc>
<line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" stroke="#333"/>
<line x1="${left}" y1="10" x2="${left}" y2="${height - bottom}" stroke="#333"/>
<text x="${left - 4}" y="16" font-size="11" text-anchor="end">${max}</text><text x="${left - 4}" y="${height - bottom}" font-size="11" text-anchor="end">0</text>
${bars.join('\n')}
</svg>`;
  const legend = series.length
    ? `<ul class="legend">${series.map((s, k) => `<li><span class="swatch" style="background:${COLOURS[k % COLOURS.length]}"></span>${h(s.label)} (${s.total})</li>`).join('')}</ul>`
    : '';
  const table = `<table><caption>${h(title)} (UTC, from)</caption>
<thead><tr><th scope="col">Series</th>${labels.map((l) => `<th scope="col">${h(l)}</th>`).join('')}<th scope="col">Total</th></tr></thead>
<tbody>${
    series.length
      ? series
          .map(
            (s) =>
              `<tr><th scope="row">${h(s.label)}</th>${s.counts.map((n) => `<td class="n">${n}</td>`).join('')}<td class="n">${s.total}</td></tr>`,
          )
          .join('\n')
      : `<tr><td colspan="${BUCKETS + 2}">Nothing in the last ${WINDOW_MINUTES} minutes.</td></tr>`
  }</tbody></table>`;
  return `<figure><figcaption>${h(desc)}</figcaption>${svg}${legend}</figure>${table}`;
}

function recipientTable(rows: RecipientFlow[]): string {
  return `<table><caption>Deliveries created in the last hour, per recipient, by where they stand now</caption>
<thead><tr><th scope="col">Recipient</th><th scope="col">Last 5 min</th><th scope="col">Last hour</th><th scope="col">Delivered</th><th scope="col">In flight</th><th scope="col">Failed or dead</th><th scope="col">Blocked (consent)</th></tr></thead>
<tbody>${
    rows.length
      ? rows
          .map(
            (r) =>
              `<tr><th scope="row">${h(r.name ?? '(no name)')} <small>${h(r.sor)}</small></th><td class="n">${r.lastFiveMinutes}</td><td class="n">${r.total}</td><td class="n">${r.delivered}</td><td class="n">${r.inFlight}</td><td class="n${r.failed ? ' bad' : ''}">${r.failed}</td><td class="n">${r.blocked}</td></tr>`,
          )
          .join('\n')
      : '<tr><td colspan="7">No deliveries in the last hour.</td></tr>'
  }</tbody></table>`;
}

function endpointTable(rows: EndpointHealth[]): string {
  return `<table><caption>Each endpoint over the last hour: deliveries that finished there, and those in flight. Time to deliver runs from acceptance to the recipient's acknowledgement, retries included.</caption>
<thead><tr><th scope="col">Endpoint</th><th scope="col">Recipients</th><th scope="col">Finished</th><th scope="col">Success rate</th><th scope="col">Median time to deliver</th><th scope="col">95th percentile</th><th scope="col">Mean attempts</th><th scope="col">In flight</th><th scope="col">Newest error</th></tr></thead>
<tbody>${
    rows.length
      ? rows
          .map((r) => {
            const rate =
              r.successRate === null ? '—' : `${(r.successRate * 100).toFixed(r.successRate === 1 ? 0 : 1)} %`;
            const rateClass = r.successRate === null ? '' : r.successRate < 0.9 ? ' bad' : ' ok';
            return `<tr><th scope="row">${h(r.endpoint)}</th><td>${r.recipients.map(h).join(', ')}</td><td class="n">${r.finished}</td><td class="n${rateClass}">${rate}</td><td class="n">${duration(r.medianMs)}</td><td class="n">${duration(r.p95Ms)}</td><td class="n">${r.meanAttempts === null ? '—' : r.meanAttempts.toFixed(1)}</td><td class="n">${r.inFlight}</td><td>${r.lastError ? `${h(r.lastError)} <small>(${h(r.lastErrorAt ? clock(new Date(r.lastErrorAt)) : '')})</small>` : '—'}</td></tr>`;
          })
          .join('\n')
      : '<tr><td colspan="9">No deliveries in the last hour.</td></tr>'
  }</tbody></table>`;
}

const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'];

function queueTable(queues: QueueDepth[]): string {
  return `<table><caption>Jobs per state in each queue (BullMQ); details in the <a href="/admin/queues">queue dashboard</a></caption>
<thead><tr><th scope="col">Queue</th>${QUEUE_STATES.map((s) => `<th scope="col">${s}</th>`).join('')}</tr></thead>
<tbody>${queues
    .map(
      (q) =>
        `<tr><th scope="row">${h(q.name)}</th>${QUEUE_STATES.map((s) => `<td class="n">${q.counts[s] ?? '—'}</td>`).join('')}</tr>`,
    )
    .join('\n')}</tbody></table>`;
}

function subscriptionTables(s: SubscriptionHealth): string {
  const statuses = ['requested', 'active', 'error', 'off'];
  const counts = `<table><caption>Subscriptions by status</caption>
<thead><tr>${statuses.map((x) => `<th scope="col">${x}</th>`).join('')}</tr></thead>
<tbody><tr>${statuses.map((x) => `<td class="n${x === 'error' && (s.byStatus[x] ?? 0) > 0 ? ' bad' : ''}">${s.byStatus[x] ?? 0}</td>`).join('')}</tr></tbody></table>`;
  const troubled = s.troubled.length
    ? `<table><caption>Subscriptions in error</caption>
<thead><tr><th scope="col">Subscription</th><th scope="col">Client</th><th scope="col">Topic</th><th scope="col">Endpoint</th><th scope="col">Error</th><th scope="col">Since</th></tr></thead>
<tbody>${s.troubled
        .map(
          (t) =>
            `<tr><th scope="row">${h(t.id)}</th><td>${h(t.clientId)}</td><td>${h(t.topic)}</td><td>${h(t.endpoint)}</td><td>${h(t.error)}</td><td><time datetime="${h(t.since)}">${h(stamp(t.since))}</time></td></tr>`,
        )
        .join('\n')}</tbody></table>`
    : '<p>No subscription is in error.</p>';
  return counts + troubled;
}

export const MESSAGE_STATUSES = ['accepted', 'queued', 'delivered', 'failed', 'dead', 'blocked'] as const;

export function messagesPage(rows: RecentMessage[], status: string | undefined, csrfToken: string | undefined): string {
  const filter = `<form method="get" action="/console/messages" class="inline">
<label for="status">Status</label>
<select id="status" name="status"><option value="">any</option>${MESSAGE_STATUSES.map((s) => `<option value="${s}"${s === status ? ' selected' : ''}>${s}</option>`).join('')}</select>
<button type="submit">Show</button></form>`;
  const table = `<table><caption>The newest ${rows.length} message${rows.length === 1 ? '' : 's'}${status ? ` with status ${h(status)}` : ''}, newest first</caption>
<thead><tr><th scope="col">Message</th><th scope="col">Accepted (UTC)</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Sender (client)</th><th scope="col">Patient (masked)</th><th scope="col">Delivered</th></tr></thead>
<tbody>${
    rows.length
      ? rows
          .map(
            (m) =>
              `<tr><th scope="row"><a href="/console/messages/${h(m.id)}">${h(m.id)}</a></th><td><time datetime="${h(m.createdAt)}">${h(stamp(m.createdAt))}</time></td><td>${h(m.kind)}</td><td class="${statusClass(m.status)}">${h(m.status)}</td><td>${h(m.senderClientId)}</td><td>${h(m.patientMasked ?? '—')}</td><td class="n">${m.delivered} of ${m.deliveries}</td></tr>`,
          )
          .join('\n')
      : '<tr><td colspan="7">No messages.</td></tr>'
  }</tbody></table>`;
  return layout('Messages', csrfToken, filter + table);
}

export function messagePage(item: TrafficItem, patientMasked: string | null, csrfToken: string | undefined): string {
  const facts = `<table><caption>The message (routing facts only; no content)</caption><tbody>
<tr><th scope="row">Id</th><td>${h(item.id)}</td></tr>
<tr><th scope="row">Kind</th><td>${h(item.kind)}</td></tr>
<tr><th scope="row">Status</th><td class="${statusClass(item.status)}">${h(item.status)}</td></tr>
<tr><th scope="row">Accepted</th><td><time datetime="${h(item.createdAt)}">${h(stamp(item.createdAt))}</time></td></tr>
<tr><th scope="row">Sender</th><td>${h(item.sender.name ?? '')} ${h(item.sender.organization.value)} (client ${h(item.sender.clientId ?? '')})</td></tr>
<tr><th scope="row">Patient (masked)</th><td>${h(patientMasked ?? '—')}</td></tr>
<tr><th scope="row">MessageHeader.id</th><td>${h(item.messageHeaderId)}</td></tr>
</tbody></table>`;
  const deliveries = item.deliveries
    .map(
      (
        d,
      ) => `<section aria-labelledby="d-${h(d.id)}"><h2 id="d-${h(d.id)}">To ${h(d.recipient.name ?? '')} ${h(d.recipient.value)}: <span class="${statusClass(d.status)}">${h(d.status)}</span></h2>
<p>Delivery ${h(d.id)}; ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastAttemptAt ? `, the last at <time datetime="${h(d.lastAttemptAt)}">${h(stamp(d.lastAttemptAt))}</time>` : ''}${d.deliveredAt ? `; delivered at <time datetime="${h(d.deliveredAt)}">${h(stamp(d.deliveredAt))}</time>` : ''}.${d.lastError && d.status !== 'delivered' ? ` Last error: ${h(d.lastError)}.` : ''}
${d.status === 'dead' || d.status === 'failed' ? ` <a href="/console/dead-letters#dl-${h(d.id)}">Dead letters</a>.` : ''}</p>
<table><caption>Timeline of delivery ${h(d.id)}</caption>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Event</th><th scope="col">Detail</th></tr></thead>
<tbody>${d.timeline.map((e) => `<tr><td><time datetime="${h(e.at)}">${h(stamp(e.at))}</time></td><td>${h(e.event)}</td><td>${h(e.detail ?? '')}</td></tr>`).join('\n')}</tbody></table></section>`,
    )
    .join('\n');
  return layout(`Message ${item.kind}`, csrfToken, facts + (deliveries || '<p>No deliveries.</p>'));
}

export interface Notice {
  kind: 'notice' | 'alert';
  text: string;
}

export function deadLettersPage(
  items: DeadLetter[],
  next: string | undefined,
  csrfToken: string | undefined,
  notice?: Notice,
): string {
  const note = notice
    ? `<p class="${notice.kind}" role="${notice.kind === 'alert' ? 'alert' : 'status'}">${h(notice.text)}</p>`
    : '';
  const form = (d: DeadLetter, action: 'replay' | 'discard') => {
    const id = `${action}-reason-${h(d.id)}`;
    return `<form method="post" action="/console/dead-letters/${h(d.id)}/${action}" class="inline">
<input type="hidden" name="_csrf" value="${h(csrfToken ?? '')}">
<label for="${id}">Reason to ${action}</label>
<input id="${id}" name="reason" required maxlength="500" size="24">
<button type="submit">${action === 'replay' ? 'Replay' : 'Discard'}</button></form>`;
  };
  const table = `<table><caption>Deliveries that ended dead (retries used up) or failed (refused for good), newest failure first. Replay sends again with a fresh retry budget; discard gives up for good. Both need a reason, which goes into the audit log.</caption>
<thead><tr><th scope="col">Delivery</th><th scope="col">Failed (UTC)</th><th scope="col">Kind</th><th scope="col">Recipient</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Why</th><th scope="col">Actions</th></tr></thead>
<tbody>${
    items.length
      ? items
          .map(
            (d) =>
              `<tr id="dl-${h(d.id)}"><th scope="row"><a href="/console/messages/${h(d.messageId)}">${h(d.id)}</a></th><td><time datetime="${h(d.failedAt)}">${h(stamp(d.failedAt))}</time></td><td>${h(d.kind)}</td><td>${h(d.recipient.name ?? '')} ${h(d.recipient.sor)}</td><td>${h(displayEndpoint(d.endpoint))}</td><td class="bad">${h(d.status)}</td><td class="n">${d.attempts}</td><td>${h(d.reason ?? '')}</td><td>${form(d, 'replay')}${form(d, 'discard')}</td></tr>`,
          )
          .join('\n')
      : '<tr><td colspan="9">No dead letters.</td></tr>'
  }</tbody></table>`;
  const more = next
    ? `<p><a href="/console/dead-letters?before=${encodeURIComponent(next)}">Older dead letters</a></p>`
    : '';
  return layout('Dead letters', csrfToken, note + table + more);
}

function statusClass(status: string): string {
  return status === 'delivered' ? 'ok' : ['dead', 'failed', 'blocked'].includes(status) ? 'bad' : '';
}

function clock(d: Date): string {
  return d.toISOString().slice(11, 16);
}

function stamp(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}

function duration(ms: number | null): string {
  if (ms === null) {
    return '—';
  }
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}
