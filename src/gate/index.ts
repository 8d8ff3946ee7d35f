import type { Env } from '../config';
import { errorResponse } from '../errors';
export async function gate(_request: Request, _env: Env, _ctx: ExecutionContext): Promise<Response> {
  return errorResponse('bad_path', 'not yet');
}
