import type { GraphProto } from 'onnx-buf';
import { tensorValueInfo } from '../../graph/value-info.js';
import type { GraphBuilder } from '../../graph/graph-builder.js';
import type { StaticInfo } from '../static-info.js';

/** A trainable tensor and its gradient tensor (as returned by buildGradientGraph). */
export interface ParamGrad {
  param: string;
  grad: string;
}

/** Input name of optimizer state `slot` (e.g. `m`) of `param`: `opt.<slot>.<param>`. */
export const stateName = (slot: string, param: string) => `opt.${slot}.${param}`;
/** Output name carrying the value of `name` after the step: `updated.<name>`. */
export const updatedName = (name: string) => `updated.${name}`;

/** Declares a float scalar graph input (learning rate, step) unless present. */
export function addScalarInput(graph: GraphProto, name: string, floatType: number): void {
  if (!graph.input.some((i) => i.name === name)) graph.input.push(tensorValueInfo(name, floatType, []));
}

/** Declares a state input shaped like `param` and returns its name. */
export function addStateInput(
  graph: GraphProto,
  info: StaticInfo,
  slot: string,
  param: string,
  floatType: number,
): string {
  const name = stateName(slot, param);
  graph.input.push(tensorValueInfo(name, floatType, info.shape(param)));
  return name;
}

/** Exposes `tensor` as graph output `updated.<name>` (through an Identity) and returns that output name. */
export function exposeUpdated(b: GraphBuilder, info: StaticInfo, tensor: string, name: string): string {
  const out = updatedName(name);
  b.op1('Identity', [tensor], {}, out);
  b.graph.output.push(tensorValueInfo(out, b.floatType, info.shape(name)));
  return out;
}
