/**
 * Ids the database stores as uuid. Anything else in a path or a search parameter is "not found" or a 400,
 * never a query PostgreSQL would refuse with an error (which would surface as a 500).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}
