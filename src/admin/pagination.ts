/**
 * The pages of every admin list, FastPix style: `?limit=` (1–100) and `?offset=` (the 1-based page)
 * in, `pagination: {totalRecords, currentOffset, offsetCount}` out.
 */
import * as z from 'zod/mini';
import { LIMITS } from '../config';

/**
 * A whole number in query text. The OpenAPI document shows it as the integer it stands for (how
 * OpenAPI describes a query parameter), so the metadata sits on the text schema, the input side of
 * the pipe: `z.toJSONSchema` drops a default declared on a transforming schema in input mode.
 * The digits are checked by a refinement rather than `z.regex` so no string `pattern` is documented
 * on what the document calls an integer.
 */
function integerText(fallback: number, min: number, max: number) {
  const text = z
    .string()
    .check(z.refine((value) => /^\d{1,9}$/.test(value), 'must be a whole number'))
    .register(z.globalRegistry, { type: 'integer', minimum: min, maximum: max, default: fallback });
  const number = z.number().check(z.int(), z.minimum(min), z.maximum(max));
  // zod 4: a default is returned as the output without being parsed, so it must be the number.
  return z._default(z.pipe(z.pipe(text, z.transform(Number)), number), fallback);
}

export const PageQuery = z.strictObject({
  limit: integerText(LIMITS.defaultPageLimit, 1, LIMITS.maxPageLimit),
  offset: integerText(1, 1, 1_000_000),
});
export type PageQuery = z.output<typeof PageQuery>;

export const Pagination = z
  .object({ totalRecords: z.number().check(z.int()), currentOffset: z.number().check(z.int()), offsetCount: z.number().check(z.int()) })
  .register(z.globalRegistry, { id: 'Pagination' });

/** The answer of a list: one page of `item`s and where it sits. */
export const pageOf = <T extends z.ZodMiniType>(item: T) => z.object({ success: z.literal(true), data: z.array(item), pagination: Pagination });

/** One page of `all` (newest first already), with its `pagination`. */
export function paginate<T>(all: readonly T[], { limit, offset }: PageQuery) {
  return {
    data: all.slice((offset - 1) * limit, offset * limit),
    pagination: { totalRecords: all.length, currentOffset: offset, offsetCount: Math.ceil(all.length / limit) },
  };
}
