import type { GatewayClient } from '../auth/clients';
import { SYSTEM } from '../mappers/systems';
import { charsetFromSetting, type Hl7Charset } from './charset';

/**
 * What the gateway knows about an HL7 v2 sender beyond its messages: the character set of messages without a
 * usable MSH-18, and the department SOR code for messages whose MSH-4 and PV1-3 carry none.
 *
 * Over HTTP it is the authenticated client's: `hl7Charset` from GATEWAY_CLIENTS_FILE (else HL7_DEFAULT_CHARSET)
 * and its organisation's SOR code. Over MLLP it is the MLLP_SENDERS rule's `charset=` and `sor=`, else the
 * mapped client's, else the same defaults.
 */
export interface Hl7SenderProfile {
  readonly charset: Hl7Charset;
  readonly departmentSor?: string | undefined;
}

export function senderProfile(
  client: GatewayClient,
  defaultCharset: string,
  rule: { charset?: string | undefined; sor?: string | undefined } = {},
): Hl7SenderProfile {
  const charset = charsetFromSetting(rule.charset ?? client.hl7Charset ?? defaultCharset) ??
    charsetFromSetting(defaultCharset) ?? { encoding: 'utf8', label: 'UNICODE UTF-8' };
  const clientSor = client.organization.system === SYSTEM.sor ? client.organization.value : undefined;
  return { charset, departmentSor: rule.sor ?? clientSor };
}
