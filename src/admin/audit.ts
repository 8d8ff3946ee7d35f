/**
 * One structured audit line per admin write. Callers pass only identifiers and what changed:
 * never key material, and never jti or sub values (they may identify a viewer; the revocation id
 * links to them).
 */
export function audit(action: string, facts: Record<string, unknown>) {
  console.log(JSON.stringify({ event: 'audit', action, ...facts, at: new Date().toISOString() }));
}
