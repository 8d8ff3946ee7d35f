
/** A user-agent policy entry written as `/pattern/` or `/pattern/i` (schema.ts validates, evaluate.ts runs it). */
export const USER_AGENT_REGEX_ENTRY = /^\/(.+)\/(i?)$/s;
