/**
 * The admin face's side of the key registry (src/keys/registry.ts): a registry answer becomes the
 * value it carries, or the refusal it names (rendered by the one error path in src/index.ts).
 */
import { Refusal } from '../errors';
import type { RegistryResult } from '../keys/registry';

export function decided<T>(result: RegistryResult<T>): T {
  if (!result.ok) throw new Refusal(result.reason, result.description);
  return result.value;
}
