import type { Consent, ConsentProvision } from 'fhir/r4';

/**
 * The one reading of a Consent's provisions (R4 Consent.provision, nested through Consent.provision.provision).
 * The evaluator (evaluate-consent.ts) and the "who may record what" check (consent-rules.ts) both read a consent
 * through this function, so what a consent is checked to permit is what it is evaluated to permit.
 *
 * - Every provision, nested ones too, becomes one rule with its own type: the explicit `type`, or, when it has
 *   none, `deny` (fail closed). Recording refuses a provision without an explicit type (400 naming it), so only
 *   consents stored before that rule can have one; the gateway never guesses a permission from a missing type.
 * - Actors (Consent.provision.actor.reference.identifier), purposes (Consent.provision.purpose.code) and data
 *   classes (Consent.provision.class.code) a provision does not give are those of its parent (a nested
 *   provision refines its parent: R4 "rules nested within this rule"). An empty list means "any".
 * - The period is the provision's own, else the parent's; a date-only end lasts the whole day.
 */
export interface ProvisionRule {
  /** FHIRPath of the provision, e.g. `Consent.provision.provision[0]`, for error messages. */
  path: string;
  /** Whether the provision itself gave a type; a rule without one is read as deny. */
  typed: boolean;
  type: 'permit' | 'deny';
  actors: Array<{ system: string; value: string }>;
  purposes: string[];
  classes: string[];
  /** Epoch ms; absent means open. */
  start?: number;
  end?: number;
  /** The provision as written, for checks of elements the reading does not carry. */
  provision: ConsentProvision;
}

export function readProvisions(consent: Pick<Consent, 'provision'>): ProvisionRule[] {
  const out: ProvisionRule[] = [];
  const walk = (
    p: ConsentProvision,
    path: string,
    inherited: Omit<ProvisionRule, 'path' | 'typed' | 'type' | 'provision'>,
  ) => {
    const own = {
      actors: p.actor?.length
        ? p.actor.flatMap((a) =>
            a.reference?.identifier?.system && a.reference.identifier.value
              ? [{ system: a.reference.identifier.system, value: a.reference.identifier.value }]
              : [],
          )
        : inherited.actors,
      purposes: p.purpose?.length ? p.purpose.map((c) => c.code ?? '') : inherited.purposes,
      classes: p.class?.length ? p.class.map((c) => c.code ?? '') : inherited.classes,
      ...periodOf(p, inherited),
    };
    const typed = p.type === 'permit' || p.type === 'deny';
    out.push({ path, typed, type: p.type === 'permit' ? 'permit' : 'deny', ...own, provision: p });
    (p.provision ?? []).forEach((nested, i) => {
      walk(nested, `${path}.provision[${i}]`, own);
    });
  };
  if (consent.provision) {
    walk(consent.provision, 'Consent.provision', { actors: [], purposes: [], classes: [] });
  }
  return out;
}

function periodOf(p: ConsentProvision, inherited: { start?: number; end?: number }): { start?: number; end?: number } {
  const start = p.period?.start ? Date.parse(p.period.start) : inherited.start;
  const end = p.period?.end ? endOf(p.period.end) : inherited.end;
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

/** A date-only end ("2026-12-31") lasts the whole day. */
function endOf(value: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T23:59:59.999Z`) : Date.parse(value);
}
