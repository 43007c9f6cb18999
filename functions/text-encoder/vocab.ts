/**
 * The words of the synthetic world. Attribute values are indices; these are their names,
 * used to build titles and query strings (and by the text "encoder" as tokens).
 */
export const CATEGORY_WORDS = [
  'dress',
  'sneaker',
  'backpack',
  'lamp',
  'mug',
  'jacket',
  'watch',
  'sofa',
  'scarf',
  'kettle',
  'headphones',
  'chair',
  'vase',
  'blanket',
  'sunglasses',
  'boots',
  'wallet',
  'rug',
  'teapot',
  'hoodie',
  'skirt',
  'pillow',
  'bottle',
  'hat',
]
export const MATERIAL_WORDS = ['cotton', 'leather', 'wool', 'steel', 'wood', 'glass', 'linen', 'ceramic']
export const COLOUR_WORDS = ['red', 'blue', 'black', 'white', 'green', 'yellow', 'pink', 'grey', 'brown', 'orange']
export const PATTERN_WORDS = ['plain', 'striped', 'floral', 'checked', 'dotted', 'camo']
export const SHAPE_WORDS = ['slim', 'round', 'boxy', 'curved', 'tall', 'compact']
export const VARIANT_WORDS = ['mini', 'small', 'medium', 'large', 'xl', 'family']
export const FILLER_WORDS = ['classic', 'new', 'everyday', 'premium', 'essential', 'signature', 'original', 'modern']

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ver',
  'tan',
  'su',
  'ren',
  'bo',
  'zel',
  'qua',
  'nor',
  'fi',
  'dax',
  'pel',
  'ru',
  'vin',
]

/** Brand names: deterministic two- or three-syllable words, distinct for every global brand index. */
export function brandWord(index: number): string {
  const a = SYLLABLES[index % SYLLABLES.length]
  const b = SYLLABLES[Math.floor(index / SYLLABLES.length) % SYLLABLES.length]
  const c =
    index >= SYLLABLES.length ** 2 ? SYLLABLES[Math.floor(index / SYLLABLES.length ** 2) % SYLLABLES.length] : ''
  const word = a + b + c
  return word[0].toUpperCase() + word.slice(1)
}
