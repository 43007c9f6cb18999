/**
 * A SYNTHETIC shopper: one session of the world (a user with hidden tastes, a query, the search
 * engine's candidates), looking at the list the edge answered as it is displayed, and clicking and
 * buying by the world's choice model (docs/world.md): each position examined with probability
 * (k + 1)^−examDecay, an examined item clicked with σ(v + clickBias − dupPenalty·d), a click bought
 * with σ(v + purchaseBias), v the user's true utility of the item for the query.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'
import {
  categoryPriceZ,
  ITEM_ATTR,
  ITEM_ATTR_COLS,
  sigmoid,
  tasteLayout,
  utilityParts,
  type UtilityInputs,
} from '../world/choice.ts'
import { SESSION, SESSION_COLS, type World } from '../world/world.ts'
import { COLOUR_WORDS, MATERIAL_WORDS, PATTERN_WORDS, SHAPE_WORDS } from '../../functions/text-encoder/vocab.ts'

/** One session of the world, as a storefront would send it. */
export interface ShopperSession {
  /** Row in the world's session table. */
  index: number
  user: number
  query: number
  split: number
  /** The search engine's candidates, in its order, with its scores. */
  candidates: { id: string; score: number }[]
}

/** What a shopper did with a displayed list: 1-based positions. */
export interface ShopperAction {
  type: 'click' | 'purchase'
  itemId: string
  position: number
  value?: number
}

/** The world's utility inputs, built once per simulation. */
export class ShopperWorld {
  private readonly inputs: UtilityInputs
  private readonly itemIndex: Map<string, number>
  private readonly scratch = new Float32Array(3)

  constructor(readonly world: World) {
    this.inputs = {
      itemAttr: world.items.attr,
      itemPriceZ: categoryPriceZ(world.items.attr, world.items.price),
      brandTier: world.brandTier,
      taste: world.users.taste,
      queryAttr: world.queries.attr,
      layout: tasteLayout(MATERIAL_WORDS.length, COLOUR_WORDS.length, PATTERN_WORDS.length, SHAPE_WORDS.length),
    }
    this.itemIndex = new Map(world.items.meta.map((m, i) => [m.id, i]))
  }

  session(index: number): ShopperSession {
    const { table, offset } = this.world.sessions
    const row = index * SESSION_COLS
    const candidates: ShopperSession['candidates'] = []
    for (let r = offset[index]; r < offset[index + 1]; r++) {
      const item = this.world.candidates.item[r]
      candidates.push({ id: this.world.items.meta[item].id, score: this.world.candidates.retrieval[r] })
    }
    return {
      index,
      user: table[row + SESSION.user],
      query: table[row + SESSION.query],
      split: table[row + SESSION.split],
      candidates,
    }
  }

  /** The user's true utility of `itemId` for the session's query. */
  utility(s: ShopperSession, itemId: string): number {
    const item = this.itemIndex.get(itemId)
    if (item === undefined) throw new Error(`simulate: the edge answered an item the world does not hold: ${itemId}`)
    utilityParts(this.inputs, this.world.config.choice, s.user, s.query, item, this.scratch, 0)
    return this.scratch[0] + this.scratch[1] + this.scratch[2]
  }

  /** What the shopper does with the list as displayed (item ids, top first). */
  act(s: ShopperSession, displayed: string[], rng: RandomGenerator): ShopperAction[] {
    const p = this.world.config.choice
    const draw = () => uniformFloat64(rng)
    const actions: ShopperAction[] = []
    const seenFamily = new Map<number, number>()
    displayed.forEach((itemId, k) => {
      const item = this.itemIndex.get(itemId)!
      const family = this.world.items.attr[item * ITEM_ATTR_COLS + ITEM_ATTR.family]
      const d = seenFamily.get(family) ?? 0
      seenFamily.set(family, d + 1)
      if (draw() >= Math.pow(k + 1, -p.examDecay)) return
      const v = this.utility(s, itemId)
      if (draw() >= sigmoid(v + p.clickBias - p.dupPenalty * d)) return
      actions.push({ type: 'click', itemId, position: k + 1 })
      if (draw() < sigmoid(v + p.purchaseBias))
        actions.push({ type: 'purchase', itemId, position: k + 1, value: this.world.items.meta[item].price })
    })
    return actions
  }
}
