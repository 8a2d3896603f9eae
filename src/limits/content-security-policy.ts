/**
 * The Content-Security-Policy of every answer (helmet sets it), written for the gateway's HTML pages: the API
 * documentation (Swagger UI), the queue dashboard, the operator login and the patient's disclosure page. Scripts
 * only from the gateway itself (none inline), no plugins, no framing, forms only to the gateway, and nothing
 * fetched from another site. Inline styles are allowed: the pages carry small <style> blocks and the
 * dashboard's React UI sets style attributes; styles cannot run code.
 */
export const contentSecurityPolicy = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};
