/** The release manifest the bundle carries (the head backends bring their own files: ./head/). */
import manifestJson from '../../models/manifest.json'
import type { Manifest } from '../release/manifest.ts'

export const manifest = manifestJson as Manifest
