-- The operator console reads the last hour of traffic and the newest messages: without these it scans every
-- message and delivery ever stored (bench/console.ts measures it).
CREATE INDEX messages_by_created ON messages (created_at DESC, id DESC);
CREATE INDEX deliveries_by_created ON deliveries (created_at);
CREATE INDEX deliveries_by_updated ON deliveries (updated_at);
