import { InvalidArgumentError } from 'commander'

/** commander argument parser for a non-negative integer option (seeds, counts). */
export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer')
  return Number(value)
}

/** commander argument parser for a positive integer option (batch sizes). */
export function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive integer')
  return Number(value)
}
