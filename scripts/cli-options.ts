import { InvalidArgumentError } from 'commander'

/** commander argument parser for a non-negative integer option (seeds, counts). */
export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer')
  return Number(value)
}
