/**
 * Where each weight of a family sits in the sidebar tree: its name (as the description lists it) →
 * the tree node's id, which is the hook path of the module (`blocks.3.attn`, `encoder.blocks.0.ln2`,
 * `embed`, `lm_head`). One table per family; adding a family adds its rules here.
 */
type Rule = readonly [pattern: RegExp, node: (m: RegExpMatchArray, side: string) => string];

const block = (i: string, what: string, side: string) => `${side}blocks.${i}.${what}`;

/** The tutorial's module names (engine/model/native.ts). */
const NATIVE: readonly Rule[] = [
  [/^(src_|tgt_)?embedding\.weight$/, (m) => `${m[1] === 'src_' ? 'encoder.' : m[1] === 'tgt_' ? 'decoder.' : ''}embed`],
  [/^(src_|tgt_)?pos_embedding\.weight$/, (m) => `${m[1] === 'src_' ? 'encoder.' : m[1] === 'tgt_' ? 'decoder.' : ''}pos_embed`],
  [/^encoder\.layers\.(\d+)\.attn\.(to_latents|from_latents)\./, (m, s) => block(m[1], `attn.${m[2]}`, s)],
  [/^(?:encoder|decoder)\.layers\.(\d+)\.(attn|cross_attn)\./, (m, s) => block(m[1], m[2], s)],
  [/^(?:encoder|decoder)\.layers\.(\d+)\.addnorm(\d)\./, (m, s) => block(m[1], `ln${m[2]}`, s)],
  [/^(?:encoder|decoder)\.layers\.(\d+)\.ffn\./, (m, s) => block(m[1], 'mlp', s)],
  [/^(?:encoder|decoder)\.norm\./, (_m, s) => `${s}ln_final`],
  [/^fc_out\./, () => 'lm_head'],
];

const GPT2: readonly Rule[] = [
  [/^(?:transformer\.)?wte\./, () => 'embed'],
  [/^(?:transformer\.)?wpe\./, () => 'pos_embed'],
  [/^(?:transformer\.)?h\.(\d+)\.ln_(\d)\./, (m) => block(m[1], `ln${m[2]}`, '')],
  [/^(?:transformer\.)?h\.(\d+)\.(attn|mlp)\./, (m) => block(m[1], m[2], '')],
  [/^(?:transformer\.)?ln_f\./, () => 'ln_final'],
  [/^lm_head\./, () => 'lm_head'],
];

/** Llama, Mistral, Qwen2, Gemma and DeepSeek-V2 share the layout. */
const LLAMA: readonly Rule[] = [
  [/^model\.embed_tokens\./, () => 'embed'],
  [/^model\.layers\.(\d+)\.input_layernorm\./, (m) => block(m[1], 'ln1', '')],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\./, (m) => block(m[1], 'ln2', '')],
  [/^model\.layers\.(\d+)\.self_attn\./, (m) => block(m[1], 'attn', '')],
  [/^model\.layers\.(\d+)\.mlp\./, (m) => block(m[1], 'mlp', '')],
  [/^model\.norm\./, () => 'ln_final'],
  [/^lm_head\./, () => 'lm_head'],
];

const BERT: readonly Rule[] = [
  [/^(?:bert\.)?embeddings\.word_embeddings\./, () => 'embed'],
  [/^(?:bert\.)?embeddings\.position_embeddings\./, () => 'pos_embed'],
  [/^(?:bert\.)?embeddings\.token_type_embeddings\./, () => 'token_type_embed'],
  [/^(?:bert\.)?embeddings\.LayerNorm\./, () => 'ln_embed'],
  [/^(?:bert\.)?encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\./, (m) => block(m[1], 'ln1', '')],
  [/^(?:bert\.)?encoder\.layer\.(\d+)\.attention\./, (m) => block(m[1], 'attn', '')],
  [/^(?:bert\.)?encoder\.layer\.(\d+)\.output\.LayerNorm\./, (m) => block(m[1], 'ln2', '')],
  [/^(?:bert\.)?encoder\.layer\.(\d+)\.(?:intermediate|output)\./, (m) => block(m[1], 'mlp', '')],
  [/^cls\.predictions\.transform\./, () => 'lm_head.transform'],
  [/^cls\.predictions\./, () => 'lm_head'],
];

/** Marian / BART (fairseq names); the shared embedding is the encoder's, first seen there. */
const MARIAN: readonly Rule[] = [
  [/^model\.shared\./, () => 'encoder.embed'],
  [/^model\.(encoder|decoder)\.embed_tokens\./, (m) => `${m[1]}.embed`],
  [/^model\.(encoder|decoder)\.embed_positions\./, (m) => `${m[1]}.pos_embed`],
  [/^model\.(encoder|decoder)\.layers\.(\d+)\.self_attn_layer_norm\./, (m) => block(m[2], 'ln1', `${m[1]}.`)],
  [/^model\.(encoder|decoder)\.layers\.(\d+)\.self_attn\./, (m) => block(m[2], 'attn', `${m[1]}.`)],
  [/^model\.decoder\.layers\.(\d+)\.encoder_attn_layer_norm\./, (m) => block(m[1], 'ln2', 'decoder.')],
  [/^model\.decoder\.layers\.(\d+)\.encoder_attn\./, (m) => block(m[1], 'cross_attn', 'decoder.')],
  [/^model\.encoder\.layers\.(\d+)\.final_layer_norm\./, (m) => block(m[1], 'ln2', 'encoder.')],
  [/^model\.decoder\.layers\.(\d+)\.final_layer_norm\./, (m) => block(m[1], 'ln3', 'decoder.')],
  [/^model\.(encoder|decoder)\.layers\.(\d+)\.fc[12]\./, (m) => block(m[2], 'mlp', `${m[1]}.`)],
  [/^lm_head\./, () => 'lm_head'],
];

const FAMILY_RULES: Record<string, readonly Rule[]> = {
  native: NATIVE,
  gpt2: GPT2,
  llama: LLAMA,
  mistral: LLAMA,
  qwen2: LLAMA,
  gemma: LLAMA,
  deepseek_v2: LLAMA,
  bert: BERT,
  marian: MARIAN,
};

/**
 * The tree node of one weight. `encoderDecoder` gives native weights their side's prefix
 * (`encoder.layers.0.attn…` → `encoder.blocks.0.attn`); single-stack models have none.
 */
export function treeNodeOf(family: string, name: string, encoderDecoder: boolean): string {
  const rules = FAMILY_RULES[family];
  if (!rules) throw new Error(`no weight map for the family '${family}' (engine/worker/weight-map.ts)`);
  const side = encoderDecoder ? (name.startsWith('decoder.') ? 'decoder.' : 'encoder.') : '';
  for (const [re, node] of rules) {
    const m = name.match(re);
    if (m) return node(m, side);
  }
  throw new Error(`the ${family} weight map has no place for ${name} (engine/worker/weight-map.ts)`);
}
