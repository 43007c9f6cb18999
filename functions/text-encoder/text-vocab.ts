import {
  CATEGORY_WORDS,
  COLOUR_WORDS,
  FILLER_WORDS,
  MATERIAL_WORDS,
  PATTERN_WORDS,
  VARIANT_WORDS,
  brandWord,
} from './vocab.ts'

/** Text tokens: one id space for every word a title or query can hold. */
export class TextVocab {
  readonly category = 0
  readonly brand: number
  readonly material: number
  readonly colour: number
  readonly pattern: number
  readonly variant: number
  readonly filler: number
  readonly size: number
  constructor(
    readonly categories: number,
    readonly brands: number,
  ) {
    this.brand = categories
    this.material = this.brand + brands
    this.colour = this.material + MATERIAL_WORDS.length
    this.pattern = this.colour + COLOUR_WORDS.length
    this.variant = this.pattern + PATTERN_WORDS.length
    this.filler = this.variant + VARIANT_WORDS.length
    this.size = this.filler + FILLER_WORDS.length
  }

  /** Every word of the vocabulary (lower case) and its token id. */
  words(): Map<string, number> {
    const words = new Map<string, number>()
    const add = (list: readonly string[], base: number) => list.forEach((w, i) => words.set(w.toLowerCase(), base + i))
    add(CATEGORY_WORDS.slice(0, this.categories), this.category)
    add(
      Array.from({ length: this.brands }, (_, b) => brandWord(b)),
      this.brand,
    )
    add(MATERIAL_WORDS, this.material)
    add(COLOUR_WORDS, this.colour)
    add(PATTERN_WORDS, this.pattern)
    add(VARIANT_WORDS, this.variant)
    add(FILLER_WORDS, this.filler)
    return words
  }
}
