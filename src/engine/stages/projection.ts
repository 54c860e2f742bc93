// $project, $unset, $addFields/$set. Output field order follows MongoDB: an inclusion
// projection keeps the input document's order for included fields and appends computed
// fields in the order the projection names them; $addFields keeps existing fields in
// place and appends new ones.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, type Doc, type Evaluate, type Value } from '../expressions/values.js';
import { keepStreamMeta, STREAM_META } from './stream-meta.js';

type Node =
  | { kind: 'include' }
  | { kind: 'exclude' }
  | { kind: 'computed'; evaluate: Evaluate }
  | { kind: 'nested'; children: Map<string, Node> };

export function compileProjection(spec: Value): (doc: Doc) => Doc {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0) throw new PipelineError('$project specification must be a non-empty object');
  const root = new Map<string, Node>();
  for (const [path, value] of Object.entries(spec)) addPath(root, path, value);
  const idNode = root.get('_id');
  const others = [...root.entries()].filter(([k]) => k !== '_id').map(([, n]) => n);
  const excluding = others.length > 0 ? others.every(isExclusionOnly) : idNode?.kind === 'exclude';
  if (!excluding && others.some((n) => !isInclusionOnly(n))) {
    throw new PipelineError('Invalid $project: cannot mix inclusion and exclusion of fields (other than _id)');
  }
  if (excluding) return (doc) => applyExclusion(doc, root);
  if (!idNode) root.set('_id', { kind: 'include' });
  else if (idNode.kind === 'exclude') root.delete('_id');
  // An inclusion projection keeps _stream_meta unless it names it (Stream Aggregation page).
  if (root.has(STREAM_META)) return (doc) => applyInclusion(doc, root, doc);
  return (doc) => keepStreamMeta(doc, applyInclusion(doc, root, doc));
}

/** `$unset: "a"` / `["a", "b.c"]` is an exclusion projection. */
export function compileUnset(spec: Value): (doc: Doc) => Doc {
  const paths: Value[] = Array.isArray(spec) ? spec : [spec];
  if (paths.length === 0 || paths.some((p) => typeof p !== 'string')) throw new PipelineError('$unset specification must be a string or an array of strings');
  const root = new Map<string, Node>();
  for (const path of paths) addPath(root, path, 0);
  return (doc) => applyExclusion(doc, root);
}

function addPath(tree: Map<string, Node>, path: string, value: Value): void {
  const [head, ...rest] = path.split('.');
  if (!head || head.startsWith('$')) throw new PipelineError(`invalid projection field name '${path}'`);
  if (rest.length > 0) {
    addPath(nestedChild(tree, head, path), rest.join('.'), value);
    return;
  }
  if (isPlainObject(value) && !Object.keys(value).some((k) => k.startsWith('$'))) {
    const children = nestedChild(tree, head, path);
    for (const [k, v] of Object.entries(value)) addPath(children, k, v);
    return;
  }
  if (tree.has(head)) throw new PipelineError(`path collision at ${path}`);
  tree.set(head, leaf(value));
}

function nestedChild(tree: Map<string, Node>, head: string, path: string): Map<string, Node> {
  const existing = tree.get(head);
  if (existing && existing.kind !== 'nested') throw new PipelineError(`path collision at ${path}`);
  if (existing) return existing.children;
  const children = new Map<string, Node>();
  tree.set(head, { kind: 'nested', children });
  return children;
}

function leaf(value: Value): Node {
  if (value === true || value === 1) return { kind: 'include' };
  if (value === false || value === 0) return { kind: 'exclude' };
  if (typeof value === 'number') return value === 0 ? { kind: 'exclude' } : { kind: 'include' };
  return { kind: 'computed', evaluate: compileExpression(value) };
}

function isExclusionOnly(node: Node): boolean {
  return node.kind === 'exclude' || (node.kind === 'nested' && [...node.children.values()].every(isExclusionOnly));
}

function isInclusionOnly(node: Node): boolean {
  return node.kind === 'include' || node.kind === 'computed' || (node.kind === 'nested' && [...node.children.values()].every(isInclusionOnly));
}

function applyInclusion(value: Doc, tree: Map<string, Node>, root: Doc): Doc {
  const out: Doc = {};
  for (const key in value) {
    const node = tree.get(key);
    if (!node) continue;
    if (node.kind === 'include') out[key] = value[key];
    else if (node.kind === 'nested') {
      const projected = projectNested(value[key], node.children, root);
      if (projected !== undefined) out[key] = projected;
    }
  }
  for (const [key, node] of tree) {
    if (node.kind === 'computed') {
      const v = node.evaluate(root);
      if (v !== undefined) out[key] = v;
    } else if (node.kind === 'nested' && !(key in value) && hasComputed(node)) {
      out[key] = applyInclusion({}, node.children, root);
    }
  }
  return out;
}

function projectNested(value: Value, tree: Map<string, Node>, root: Doc): Value {
  if (isPlainObject(value)) return applyInclusion(value, tree, root);
  if (Array.isArray(value)) {
    return value.filter((el) => isPlainObject(el) || Array.isArray(el)).map((el) => projectNested(el, tree, root));
  }
  return undefined;
}

function hasComputed(node: Node): boolean {
  return node.kind === 'computed' || (node.kind === 'nested' && [...node.children.values()].some(hasComputed));
}

function applyExclusion(value: Doc, tree: Map<string, Node>): Doc {
  const out: Doc = {};
  for (const key in value) {
    const node = tree.get(key);
    if (!node) out[key] = value[key];
    else if (node.kind === 'nested') out[key] = excludeNested(value[key], node.children);
  }
  return out;
}

function excludeNested(value: Value, tree: Map<string, Node>): Value {
  if (isPlainObject(value)) return applyExclusion(value, tree);
  if (Array.isArray(value)) return value.map((el) => excludeNested(el, tree));
  return value;
}

type Assignment = { parts: string[]; evaluate: Evaluate };

export function compileAddFields(spec: Value): (doc: Doc) => Doc {
  if (!isPlainObject(spec)) throw new PipelineError('$addFields specification must be an object');
  const assignments: Assignment[] = [];
  const collect = (prefix: string[], fields: Doc) => {
    for (const [path, value] of Object.entries(fields)) {
      const parts = [...prefix, ...path.split('.')];
      if (parts.some((p) => p === '' || p.startsWith('$'))) throw new PipelineError(`invalid field name '${path}'`);
      if (isPlainObject(value) && Object.keys(value).length > 0 && !Object.keys(value).some((k) => k.startsWith('$'))) collect(parts, value);
      else assignments.push({ parts, evaluate: compileExpression(value) });
    }
  };
  collect([], spec);
  return (doc) => {
    // Every expression sees the input document, not fields set earlier in the same stage.
    const values = assignments.map((a) => a.evaluate(doc));
    let out: Doc = { ...doc };
    assignments.forEach((a, i) => { out = setPath(out, a.parts, 0, values[i]); });
    return out;
  };
}

/** Returns `target` (already a private copy) with the path set; nested objects are copied, never mutated. */
function setPath(target: Doc, parts: string[], i: number, value: Value): Doc {
  const key = parts[i]!;
  if (i === parts.length - 1) {
    if (value === undefined) delete target[key];
    else target[key] = value;
    return target;
  }
  const current = target[key];
  if (Array.isArray(current)) {
    target[key] = current.map((el) => (isPlainObject(el) ? setPath({ ...el }, parts, i + 1, value) : el));
  } else {
    target[key] = setPath(isPlainObject(current) ? { ...current } : {}, parts, i + 1, value);
  }
  return target;
}
