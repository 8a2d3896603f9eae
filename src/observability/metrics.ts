import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics, one registry per process (tests create their own). */
export interface Metrics {
  readonly registry: Registry;
  readonly intake: Counter<'kind' | 'outcome'>;
  readonly deliveries: Counter<'kind' | 'outcome'>;
  readonly deliveryLatency: Histogram<'kind'>;
  readonly queueDepth: Gauge<'queue' | 'state'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
  }
  return {
    registry,
    intake: new Counter({
      name: 'sektorbro_intake_total',
      help: 'Messages received at intake, by kind and outcome (accepted, rejected, duplicate)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'sektorbro_deliveries_total',
      help: 'Delivery attempts by kind and outcome (delivered, retry, failed, dead)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'sektorbro_delivery_latency_seconds',
      help: 'Time from acceptance to confirmed delivery',
      labelNames: ['kind'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'sektorbro_queue_jobs',
      help: 'Jobs in the delivery queues by state, sampled at scrape time',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
  };
}
