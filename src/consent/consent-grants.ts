import { SYSTEM } from '../mappers/systems';
import type { GrantedPermit, RoleGrant, Sector } from './evaluate-consent';
import type { ProvisionRule } from './provisions';

/**
 * "Who may record what", decided on what a consent permits rather than on its shape: every disclosure a permit
 * rule can allow, (recipient, purpose, data class), must lie inside the recording role's grant in the policy
 * (policy/disclosure-policy.json `grants`). The rules are those provisions.ts reads, the same the evaluator
 * uses, so a consent cannot be checked as one thing and evaluated as another. Denies only take away, so they
 * are checked only against the grant's `deny` flag. Pure: the caller resolves actors to sectors.
 */
export interface GrantContext {
  /** The recording client's organisation: `self` in a grant. */
  self: { system: string; value: string };
  /**
   * The sector of an actor the consent names: a sector actor's own value, a municipality code → municipality,
   * CVR → employer, SOR → its Organization in the directory; undefined when not known (then only a grant of
   * `any` recipients covers it).
   */
  sectorOf: (actor: { system: string; value: string }) => Sector | undefined;
}

export interface GrantProblem {
  /** FHIRPath of the element that goes beyond the grant, e.g. `Consent.provision.provision[1].class`. */
  expression: string;
  diagnostics: string;
}

const ANY = undefined;

/** What in these rules lies outside the grant; empty when the consent may be recorded by that role. */
export function beyondGrant(
  rules: readonly ProvisionRule[],
  grant: RoleGrant | undefined,
  ctx: GrantContext,
): GrantProblem[] {
  const problems: GrantProblem[] = [];
  const role = grant?.role ?? 'this role';
  for (const rule of rules) {
    if (rule.type === 'deny') {
      if (!grant?.deny) {
        problems.push({
          expression: `${rule.path}.type`,
          diagnostics: `${rule.path}.type: a client of role ${role} may not record an objection (deny) on the patient's behalf`,
        });
      }
      continue;
    }
    const permits = grant?.permits ?? [];
    const actors = rule.actors.length ? rule.actors : [ANY];
    const purposes = rule.purposes.length ? rule.purposes : [ANY];
    const classes = rule.classes.length ? rule.classes : [ANY];
    // Every (actor, purpose, class) the rule allows must fall inside one granted permit.
    const outside = actors
      .flatMap((a) => purposes.flatMap((p) => classes.map((c) => ({ a, p, c }))))
      .find(({ a, p, c }) =>
        permits.every((g) => !recipientCovered(g, a, ctx) || !covered(g.purposes, p) || !covered(g.dataClasses, c)),
      );
    if (!outside) {
      continue;
    }
    const { a, p, c } = outside;
    const forActor = permits.filter((g) => recipientCovered(g, a, ctx));
    if (forActor.length === 0) {
      problems.push({
        expression: `${rule.path}.actor`,
        diagnostics: `${rule.path}.actor: a client of role ${role} may not record a permission for ${a ? `${a.system}|${a.value}` : 'any recipient (name the recipient)'} (${recipientsText(permits)})`,
      });
    } else if (!forActor.some((g) => covered(g.purposes, p))) {
      problems.push({
        expression: `${rule.path}.purpose`,
        diagnostics: `${rule.path}.purpose: a client of role ${role} may not record a permission for ${p === ANY ? 'any purpose (name the purpose)' : `purpose ${p}`} (${listText(forActor.map((g) => g.purposes))})`,
      });
    } else {
      problems.push({
        expression: `${rule.path}.class`,
        diagnostics: `${rule.path}.class: a client of role ${role} may not record a permission for ${c === ANY ? 'every data class (name the classes)' : `data class ${c}`} (${listText(forActor.map((g) => g.dataClasses))})`,
      });
    }
  }
  return problems;
}

/** Whether a permit rule names the recording organisation itself as a recipient (it then needs evidence). */
export function namesSelf(rule: ProvisionRule, self: { system: string; value: string }): boolean {
  return rule.type === 'permit' && rule.actors.some((a) => a.system === self.system && a.value === self.value);
}

function recipientCovered(
  g: GrantedPermit,
  actor: { system: string; value: string } | undefined,
  ctx: GrantContext,
): boolean {
  if (g.recipients === 'any') {
    return true;
  }
  if (!actor) {
    return false;
  }
  if (g.recipients === 'self') {
    return actor.system === ctx.self.system && actor.value === ctx.self.value;
  }
  const sector = ctx.sectorOf(actor);
  return sector !== undefined && g.recipients.includes(sector);
}

function covered(granted: 'any' | string[], code: string | undefined): boolean {
  return granted === 'any' || (code !== undefined && granted.includes(code));
}

function recipientsText(permits: GrantedPermit[]): string {
  const texts = permits.map((g) =>
    g.recipients === 'any'
      ? 'anyone'
      : g.recipients === 'self'
        ? 'its own organisation only'
        : `organisations of the ${g.recipients.join(', ')} sector`,
  );
  return texts.length ? `allowed: ${texts.join('; ')}` : 'it may record no permissions';
}

function listText(granted: Array<'any' | string[]>): string {
  return granted.length ? `allowed: ${granted.map((g) => (g === 'any' ? 'any' : g.join(', '))).join('; ')}` : 'none';
}

/** The sector an actor's identifier system says, without the directory (SOR needs the directory: undefined). */
export function sectorOfIdentifier(actor: { system: string; value: string }): Sector | undefined {
  if (actor.system === SYSTEM.sector) {
    return (['health', 'municipality', 'employer'] as const).find((s) => s === actor.value);
  }
  if (actor.system === SYSTEM.municipality) {
    return 'municipality';
  }
  return actor.system === SYSTEM.cvr ? 'employer' : undefined;
}
