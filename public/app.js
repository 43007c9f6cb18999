// The demo storefront: one search, before and after re-ranking, for a shopper picked from a few
// SYNTHETIC users (their recent history is sent with the request). It calls the worker it is
// served by through the storefront client (client.js, built from functions/client/rerank-client.ts).
// Clicking a re-ranked item, or its "buy" button, reports the event (POST /v1/events, through the
// client's track) and puts the item at the front of this visit's history, which the next search
// sends: the page holds an anonymous visit's history itself (docs/events.md).
import { rerank, track } from './client.js'

const SHOWN = 12
const HUES = {
  black: '#2b2b2b',
  blue: '#2f6fd6',
  brown: '#8a5a2b',
  green: '#2e9b4f',
  grey: '#9a9a9a',
  orange: '#f08a24',
  pink: '#f07aa8',
  red: '#d63a2f',
  white: '#f4f4f4',
  yellow: '#f2cd2c',
}
const $ = (id) => document.getElementById(id)
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  node.append(...children)
  return node
}

/** A picture of what the product photo shows: its colour, pattern and shape. */
function itemSvg({ colour, pattern, shape }, cls = '') {
  const fill = HUES[colour] ?? '#ccc'
  const ink = colour === 'white' || colour === 'yellow' ? '#555' : '#fff'
  const id = `p${Math.random().toString(36).slice(2)}`
  const patterns = {
    plain: '',
    striped: `<path d="M0 0L10 10M-5 5L5 15M5 -5L15 5" stroke="${ink}" stroke-width="2.5"/>`,
    dotted: `<circle cx="5" cy="5" r="2" fill="${ink}"/>`,
    checked: `<rect width="5" height="5" fill="${ink}" opacity=".6"/><rect x="5" y="5" width="5" height="5" fill="${ink}" opacity=".6"/>`,
    camo: `<path d="M1 3q3-3 5 0t3 4q-3 3-6 1z" fill="${ink}" opacity=".45"/>`,
    floral: `<circle cx="5" cy="5" r="1.4" fill="${ink}"/><circle cx="5" cy="2.4" r="1.2" fill="${ink}" opacity=".7"/><circle cx="5" cy="7.6" r="1.2" fill="${ink}" opacity=".7"/><circle cx="2.4" cy="5" r="1.2" fill="${ink}" opacity=".7"/><circle cx="7.6" cy="5" r="1.2" fill="${ink}" opacity=".7"/>`,
  }
  const body =
    {
      boxy: '<rect x="18" y="24" width="64" height="54" rx="4"/>',
      compact: '<rect x="30" y="34" width="40" height="38" rx="6"/>',
      curved: '<path d="M14 70Q50 8 86 70Q50 86 14 70z"/>',
      round: '<circle cx="50" cy="52" r="32"/>',
      slim: '<rect x="40" y="12" width="20" height="78" rx="6"/>',
      tall: '<rect x="28" y="8" width="44" height="84" rx="10"/>',
    }[shape] ?? '<rect x="20" y="20" width="60" height="60"/>'
  const defs = patterns[pattern]
    ? `<defs><pattern id="${id}" width="10" height="10" patternUnits="userSpaceOnUse"><rect width="10" height="10" fill="${fill}"/>${patterns[pattern]}</pattern></defs>`
    : ''
  const paint = defs ? `url(#${id})` : fill
  const wrap = document.createElement('span')
  wrap.innerHTML = `<svg class="${cls}" viewBox="0 0 100 100" role="img" aria-label="${colour} ${pattern} ${shape}">${defs}<g fill="${paint}" stroke="#0003" stroke-width="1.5">${body}</g></svg>`
  return wrap.firstChild
}

function card(data, id, rank, move, onPick) {
  const item = data.items[id]
  const facts = `${item.colour} · ${item.pattern} · ${item.shape} · $${item.price.toFixed(2)}`
  const li = el(
    'li',
    { 'data-id': id, 'data-colour': item.colour },
    el('span', { class: 'rank' }, String(rank)),
    itemSvg(item),
    el('span', {}, el('div', { class: 'title' }, item.title), el('div', { class: 'facts' }, facts)),
    move ?? el('span'),
  )
  if (onPick) {
    const buy = el('button', { type: 'button', class: 'buy' }, 'buy')
    buy.addEventListener('click', (e) => (e.stopPropagation(), onPick('purchase')))
    li.append(buy)
    li.classList.add('pickable')
    li.addEventListener('click', () => onPick('click'))
  }
  return li
}

function moveMark(from, to) {
  if (from === to) return el('span', { class: 'move same' }, '=')
  const up = from > to
  return el(
    'span',
    { class: `move ${up ? 'up' : 'down'}`, title: `was #${from}` },
    `${up ? '▲' : '▼'} ${Math.abs(from - to)}`,
  )
}

/** The query as the demo's list spells it: lower case, single spaces (the edge normalizes likewise). */
const normalized = (text) => text.trim().toLowerCase().replace(/\s+/g, ' ')

async function main() {
  const data = await (await fetch('/demo/data.json')).json()
  const queries = new Map(data.queries.map((q) => [q.text, q]))
  $('queries').append(...data.queries.map((q) => el('option', { value: q.text })))
  $('user').append(el('option', { value: '' }, 'anonymous shopper'))
  $('user').append(...data.users.map((u, i) => el('option', { value: String(i) }, `${u.id}: ${u.label}`)))
  $('query').value = data.queries[0].text

  const user = () => ($('user').value === '' ? null : data.users[Number($('user').value)])
  // This visit: its own id (ties its answers to its events in the log) and what it clicked or bought.
  const session = crypto.randomUUID()
  let picked = []
  let tracked = 0
  const history = () => [...picked, ...(user()?.history ?? []).filter((id) => !picked.includes(id))]
  function showHistory() {
    const u = user()
    const items = history()
    const label = items.length
      ? `${u ? `${u.id}'s` : "this visit's"} recent items${picked.length ? ` (${picked.length} picked here)` : ''}:`
      : 'no history (anonymous)'
    $('history').replaceChildren(
      el('span', { class: 'label' }, label),
      ...items.slice(0, 16).map((id) => itemSvg(data.items[id], `mini${picked.includes(id) ? ' picked' : ''}`)),
    )
  }

  /** A click or a purchase of the item shown at `position` of answer `answerId`. */
  async function pick(type, answerId, itemId, position) {
    picked = [itemId, ...picked.filter((id) => id !== itemId)]
    showHistory()
    const event = { event_id: crypto.randomUUID(), type, answer_id: answerId, item_id: itemId, position }
    const result = await track(location.origin, [{ ...event, time: new Date().toISOString() }], { user: { session } })
    tracked += result.sent
    document.body.dataset.tracked = String(tracked)
  }

  // The demo has a search engine's candidates only for its own queries: for any other it shows the
  // first one, and says so, with the queries it knows.
  function showNotice(unknown, shown) {
    $('notice').hidden = unknown === null
    if (unknown === null) return
    const pick = (q) => {
      const button = el('button', { type: 'button', class: 'known-query' }, q.text)
      button.addEventListener('click', () => (($('query').value = q.text), search()))
      return button
    }
    $('notice').replaceChildren(
      el(
        'span',
        {},
        `“${unknown}” is not one of this demo's queries: a storefront's search engine would retrieve its candidates, ` +
          `and the demo has them for these ${data.queries.length} only. Showing “${shown}” instead. Try: `,
      ),
      ...data.queries.map(pick),
    )
  }

  let pending
  async function search() {
    const typed = $('query').value.trim()
    const known = queries.get(normalized(typed))
    const q = known ?? data.queries[0]
    showNotice(known || typed === '' ? null : typed, q.text)
    $('query').value = q.text
    const u = user()
    const request = {
      query: q.text,
      candidates: q.candidates,
      k: SHOWN,
      user: history().length ? { session, history: history() } : { session },
      ...($('full').checked ? { mode: 'full' } : {}),
    }
    pending?.abort()
    pending = new AbortController()
    const { signal } = pending
    const started = performance.now()
    const answer = await rerank(location.origin, request, { timeoutMs: 3000, signal })
    // A newer search replaced this one: the client answered its abort with the input order, not shown.
    if (signal.aborted) return
    const ms = performance.now() - started
    const position = new Map(q.candidates.map((c, i) => [c.id, i + 1]))
    $('before').replaceChildren(...q.candidates.slice(0, SHOWN).map((c, i) => card(data, c.id, i + 1)))
    const onPick = (item, i) => (answer.answer_id ? (type) => pick(type, answer.answer_id, item.id, i + 1) : undefined)
    $('after').replaceChildren(
      ...answer.items.map((item, i) =>
        card(data, item.id, i + 1, moveMark(position.get(item.id), i + 1), onPick(item, i)),
      ),
    )
    const badges = [
      el('span', { class: `badge ${answer.path}`, 'data-path': answer.path }, answer.path),
      ...(answer.degraded ?? []).map((r) => el('span', { class: 'badge degraded' }, r)),
      el('span', { class: 'badge', 'data-latency': '' }, `${ms.toFixed(0)} ms`),
      el('span', { class: 'badge' }, answer.headers?.cache === 'HIT' ? 'cache hit' : 'cache miss'),
    ]
    $('badges').replaceChildren(...badges)
    document.body.dataset.answered = `${q.text}|${u?.id ?? ''}|${answer.path}|${history().length}`
  }

  $('search').addEventListener('submit', (e) => (e.preventDefault(), search()))
  $('user').addEventListener('change', () => (showHistory(), search()))
  $('full').addEventListener('change', search)
  showHistory()
  await search()
}

main()
