/**
 * Convolution geometry shared by the native (oneDNN) and no-native (direct SIMD, im2col) kernels: tfjs's conv info
 * (NDHWC activations, DHWIO filters, explicit front/back pads) flattened to 24 integers, 2D as depth 1:
 *   [N, ID, IH, IW, IC, OC, OD, OH, OW, KD, KH, KW, sD, sH, sW, pFront, pTop, pLeft, pBack, pBottom, pRight,
 *    dD, dH, dW]
 */
import * as tf from '@tensorflow/tfjs';

export type ConvInfo = tf.backend_util.Conv2DInfo | tf.backend_util.Conv3DInfo;

export interface Geom {
  N: number; ID: number; IH: number; IW: number; IC: number; OC: number; OD: number; OH: number; OW: number;
  KD: number; KH: number; KW: number; sD: number; sH: number; sW: number;
  pF: number; pT: number; pL: number; pBk: number; pBo: number; pR: number; dD: number; dH: number; dW: number;
}

export function geomOf(info: ConvInfo): Geom {
  const is3d = 'inDepth' in info;
  const i3 = info as tf.backend_util.Conv3DInfo;
  const p = info.padInfo as tf.backend_util.PadInfo3D;
  return {
    N: info.batchSize,
    ID: is3d ? i3.inDepth : 1, IH: info.inHeight, IW: info.inWidth, IC: info.inChannels, OC: info.outChannels,
    OD: is3d ? i3.outDepth : 1, OH: info.outHeight, OW: info.outWidth,
    KD: is3d ? i3.filterDepth : 1, KH: info.filterHeight, KW: info.filterWidth,
    sD: is3d ? i3.strideDepth : 1, sH: info.strideHeight, sW: info.strideWidth,
    pF: is3d ? p.front : 0, pT: p.top, pL: p.left, pBk: is3d ? p.back : 0, pBo: p.bottom, pR: p.right,
    dD: is3d ? i3.dilationDepth : 1, dH: info.dilationHeight, dW: info.dilationWidth,
  };
}

export function geomArray(g: Geom): Int32Array {
  return Int32Array.from([g.N, g.ID, g.IH, g.IW, g.IC, g.OC, g.OD, g.OH, g.OW, g.KD, g.KH, g.KW, g.sD, g.sH, g.sW,
    g.pF, g.pT, g.pL, g.pBk, g.pBo, g.pR, g.dD, g.dH, g.dW]);
}

/** Multiply-accumulates of one convolution (forward); backward-data and backward-weights cost the same. */
export function convMacs(g: Geom): number {
  return g.N * g.OD * g.OH * g.OW * g.OC * g.KD * g.KH * g.KW * g.IC;
}

type S3 = [number, number, number] | number;
type S2 = [number, number] | number;
type Pad = 'same' | 'valid' | number;

export function conv3dInfo(xShape: number[], wShape: number[], strides: S3, pad: Pad, dilations: S3 = 1): ConvInfo {
  return tf.backend_util.computeConv3DInfo(xShape as [number, number, number, number, number],
    wShape as [number, number, number, number, number], strides, dilations, pad as 'same' | 'valid');
}

export function conv2dInfo(xShape: number[], wShape: number[], strides: S2, pad: Pad | tf.backend_util.ExplicitPadding,
  dilations: S2 = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): ConvInfo {
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number],
    wShape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
}
