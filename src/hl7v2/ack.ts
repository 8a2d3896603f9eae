import type { Hl7Message } from './parse';

/**
 * HL7 v2.5 acknowledgements (original mode): MSH, MSA (AA accepted, AE error, AR rejected) and, when not
 * AA, an ERR segment with the location, the table 0357 error code and a message for the sender's staff.
 * Written with the incoming message's delimiters where there is one.
 */
export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckError {
  text: string;
  /** HL7 location, e.g. "PID-3" or "MSH-2". */
  location?: string | undefined;
  /** Table 0357: 100 segment sequence, 101 required field missing, 102 data type, 200 unsupported message type, 207 application error. */
  hl7ErrorCode?: string | undefined;
}

export function buildAck(msg: Hl7Message | undefined, code: AckCode, now: Date, ackControlId: string, error?: AckError): string {
  const d = msg?.delimiters ?? { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
  const esc = (v: string) =>
    v
      .replaceAll(d.escape, `${d.escape}E${d.escape}`)
      .replaceAll(d.field, `${d.escape}F${d.escape}`)
      .replaceAll(d.component, `${d.escape}S${d.escape}`)
      .replaceAll(d.repetition, `${d.escape}R${d.escape}`)
      .replaceAll(d.subcomponent, `${d.escape}T${d.escape}`)
      .replace(/[\r\n]+/g, ' ');
  const f = d.field;
  const msh = msg?.segment('MSH');
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const receivingApp = msg ? esc(msg.get(msh, 3)) : '';
  const receivingFacility = msg ? esc(msg.get(msh, 4)) : '';
  const trigger = msg ? esc(msg.messageType.trigger) : '';
  const segments = [
    ['MSH', `${d.component}${d.repetition}${d.escape}${d.subcomponent}`, 'SEKTORBRO', 'SEKTORBRO', receivingApp, receivingFacility, ts, '', `ACK${d.component}${trigger}${d.component}ACK`, esc(ackControlId), 'P', msg?.version || '2.5'].join(f),
    ['MSA', code, msg ? esc(msg.controlId) : '', error ? esc(error.text).slice(0, 80) : ''].join(f),
  ];
  if (error && code !== 'AA') {
    const [segment = '', field = ''] = (error.location ?? '').split('-');
    const location = segment && /^[A-Z][A-Z0-9]{2}$/.test(segment) ? `${segment}${d.component}1${field ? `${d.component}${field}` : ''}` : '';
    const errCode = error.hl7ErrorCode ?? '207';
    segments.push(['ERR', '', location, `${errCode}${d.component}${esc(error.text).slice(0, 200)}${d.component}HL70357`, code === 'AR' ? 'F' : 'E', '', '', '', esc(error.text)].join(f));
  }
  return `${segments.join('\r')}\r`;
}
