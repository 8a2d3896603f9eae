import { UnmappableInput } from '../unmappable-input';
import type { Hl7Message } from '../../hl7v2/parse';

/**
 * Where the sending department's SOR code comes from, in this order:
 *
 * 1. MSH-4 (sending facility), HD-1 namespace id or HD-2 universal id, when it is a SOR code;
 * 2. PV1-3's facility (PL.4, an HD in sub-components): its universal id (PL.4.2), else its namespace id
 *    (PL.4.1), when that is a SOR code;
 * 3. the sender's configured department: for MLLP the `sor=` of its MLLP_SENDERS rule, else the SOR of the
 *    gateway client the rule maps to; over HTTP the SOR of the authenticated client's organisation.
 *
 * Real feeds put the facility's name in MSH-4 ("Aarhus Universitetshospital") and the department's SOR code
 * in PV1-3; both that and an MSH-4 carrying the SOR code are taken. A SOR code is an SCTID-shaped number in
 * the Danish namespace 1000016 (e.g. 265161000016004), written bare or as the OID 1.2.208.176.1.1.<code>,
 * so a local department number or a SHAK code ("7001") is never mistaken for one.
 */
const SOR = /^[1-9][0-9]{0,7}1000016[0-9]{3}$/;

export function isSorCode(value: string): boolean {
  return SOR.test(value);
}

function asSor(value: string): string | undefined {
  const bare = value.trim().replace(/^(urn:oid:)?1\.2\.208\.176\.1\.1\./, '');
  return isSorCode(bare) ? bare : undefined;
}

export interface DepartmentSor {
  sor: string;
  /** Which rule gave it: "MSH-4", "PV1-3" or "sender". */
  source: 'MSH-4' | 'PV1-3' | 'sender';
}

/** The department's SOR code by the order above; UnmappableInput naming MSH-4 and PV1-3 when none of them gives one. */
export function departmentSor(msg: Hl7Message, senderSor?: string): DepartmentSor {
  const msh = msg.segment('MSH');
  const fromMsh = [msg.get(msh, 4, 1), msg.get(msh, 4, 2)].map(asSor).find(Boolean);
  if (fromMsh) {
    return { sor: fromMsh, source: 'MSH-4' };
  }
  const pv1 = msg.segment('PV1');
  const fromPv1 = [msg.get(pv1, 3, 4, 2), msg.get(pv1, 3, 4, 1)].map(asSor).find(Boolean);
  if (fromPv1) {
    return { sor: fromPv1, source: 'PV1-3' };
  }
  const fromSender = senderSor ? asSor(senderSor) : undefined;
  if (fromSender) {
    return { sor: fromSender, source: 'sender' };
  }
  throw new UnmappableInput({
    diagnostics:
      "MSH-4: no SOR code for the sending department: give it in MSH-4 (HD-1 or HD-2), in PV1-3's facility (PL.4, universal id), or configure one for this sender",
    expression: 'MSH-4',
    reason: 'missing-field',
  });
}
