/**
 * The events contract (`POST /v1/events`, docs/events.md): what a storefront page reports after a
 * re-ranked answer was shown — a click, an add-to-cart, a purchase — one schema for the edge and
 * the typed client. A batch comes from one page, so the user is named once per batch; its token
 * may travel in the body, because `navigator.sendBeacon` cannot set headers.
 */
import { z } from 'zod'
import { echo, expects, ItemId, MAX_CANDIDATES, objectOf, OpaqueId } from './rerank-api.ts'

export const MAX_EVENTS = 100

/**
 * What a page may report. `impression` is the edge's own (it knows what it served); a view or a
 * page hit tells a ranker nothing an impression does not, so neither is taken.
 */
export const EVENT_TYPES = ['click', 'add_to_cart', 'purchase'] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Client-made ids, long enough that two pages do not make the same one (a UUID fits). */
const EVENT_ID = /^[A-Za-z0-9._:-]{8,64}$/

const EventId = z
  .string({ error: expects('a string', 'an id the page makes once per event, e.g. crypto.randomUUID()') })
  .regex(EVENT_ID, {
    error: (iss) => `must be 8–64 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-" (got ${echo(iss.input)})`,
  })

const AnswerId = z
  .string({ error: expects('a string', 'the answer_id of the re-ranked answer the item was shown in') })
  .regex(/^[A-Za-z0-9-]{1,64}$/, {
    error: (iss) => `must be an answer_id as /v1/rerank gave it (got ${echo(iss.input)})`,
  })

/** ISO 8601 with a zone ("2026-12-06T10:00:00.000Z"), as `new Date().toISOString()` writes it. */
const Timestamp = z.iso.datetime({
  offset: true,
  error: (iss) =>
    iss.input === undefined
      ? 'required (when it happened, ISO 8601 with a zone, e.g. new Date().toISOString())'
      : `must be an ISO 8601 time with a zone, e.g. "2026-12-06T10:00:00.000Z" (got ${echo(iss.input)})`,
})

export const StorefrontEvent = z
  .strictObject(
    {
      event_id: EventId,
      type: z.enum(EVENT_TYPES, {
        error: (iss) =>
          `must be "click", "add_to_cart" or "purchase" (got ${echo(iss.input)}; impressions are the edge's own)`,
      }),
      answer_id: AnswerId,
      item_id: ItemId,
      position: z
        .number({ error: expects('a whole number', 'where the item was shown, 1 for the top') })
        .int({ error: (iss) => `must be a whole number (got ${echo(iss.input)})` })
        .min(1, { error: (iss) => `must be between 1 and ${MAX_CANDIDATES} (got ${echo(iss.input)})` })
        .max(MAX_CANDIDATES, { error: (iss) => `must be between 1 and ${MAX_CANDIDATES} (got ${echo(iss.input)})` }),
      time: Timestamp,
      quantity: z
        .number({ error: expects('a whole number') })
        .int({ error: (iss) => `must be a whole number (got ${echo(iss.input)})` })
        .min(1, { error: (iss) => `must be between 1 and 10000 (got ${echo(iss.input)})` })
        .max(10_000, { error: (iss) => `must be between 1 and 10000 (got ${echo(iss.input)})` })
        .optional(),
      // In the store's currency; the log does not convert.
      value: z
        .number({ error: expects('a number') })
        .min(0, { error: (iss) => `must not be negative (got ${echo(iss.input)})` })
        .optional(),
    },
    {
      error: objectOf(
        'an object {"event_id", "type", "answer_id", "item_id", "position", "time", …}',
        'an event holds "event_id", "type", "answer_id", "item_id", "position", "time", "quantity" and "value"',
      ),
    },
  )
  .superRefine((e, ctx) => {
    if (e.type !== 'purchase' && e.value !== undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'is only for a purchase' })
    if (e.type === 'click' && e.quantity !== undefined)
      ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'is only for add_to_cart and purchase' })
  })
export type StorefrontEvent = z.output<typeof StorefrontEvent>

export const EventUser = z.strictObject(
  {
    id: OpaqueId.optional(),
    // X-User-Token's value, for callers that cannot set headers (sendBeacon).
    token: z
      .string({ error: expects('a string') })
      .max(512, 'must be at most 512 characters')
      .optional(),
    session: OpaqueId.optional(),
  },
  { error: objectOf('an object {"id"?, "token"?, "session"?}', 'a user holds "id", "token" and "session"') },
)

export const EventBatch = z.strictObject(
  {
    user: EventUser.optional(),
    events: z
      .array(StorefrontEvent, { error: expects('a list', 'the events, at most 100') })
      .min(1, 'must hold at least one event')
      .max(MAX_EVENTS, {
        error: (iss) =>
          `must hold at most ${MAX_EVENTS} events (got ${(iss.input as unknown[]).length}); send the rest in another batch`,
      })
      .superRefine((list, ctx) => {
        const first = new Map<string, number>()
        list.forEach(({ event_id }, i) => {
          const seen = first.get(event_id)
          if (seen !== undefined)
            ctx.addIssue({ code: 'custom', message: `repeats the id of events.${seen}`, path: [i, 'event_id'] })
          else first.set(event_id, i)
        })
      }),
  },
  { error: objectOf('a JSON object {"user"?, "events"}', 'the fields are "user" and "events"') },
)
export type EventBatch = z.output<typeof EventBatch>
export type EventBatchInput = z.input<typeof EventBatch>

/** What `POST /v1/events` answers (202): how many events it took. */
export interface EventsAccepted {
  accepted: number
}

/** Every timestamp outside [now − maxAgeDays, now + 1 day], as "events.3.time: …" problems. */
export function eventTimeProblems(batch: EventBatch, now: number, maxAgeDays: number) {
  const late = now + 86_400_000
  const early = now - maxAgeDays * 86_400_000
  const out: { field: string; detail: string }[] = []
  batch.events.forEach((e, i) => {
    const t = Date.parse(e.time)
    const field = `events.${i}.time`
    if (t > late) out.push({ field, detail: `${field}: is more than a day in the future (${e.time})` })
    else if (t < early)
      out.push({ field, detail: `${field}: is older than the log keeps (${maxAgeDays} days; ${e.time})` })
  })
  return out
}
