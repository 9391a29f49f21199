/**
 * Coded runtime errors. Every failure the user can cause (a malformed dataset, a corrupt image, a killed
 * run, a missing file) is an `NnucError` with a stable code from `RUNTIME_ERRORS`, the file it concerns and
 * a hint saying how to fix it. The CLI prints these as `file: error NNU4001: message` without a stack trace.
 *
 * Code ranges (the language's own diagnostics, NNU1xxx-3xxx, live in grammar/diagnostics.ts):
 *   NNU4xxx  datasets, image I/O, fingerprint
 *   NNU5xxx  preprocessing and the preprocessed store
 *   NNU6xxx  networks, backends and training
 *   NNU7xxx  inference, evaluation, selection, post-processing
 *   NNU8xxx  scale-out (jobs)
 *   NNU9xxx  CLI usage and plans on disk
 */
export interface RuntimeErrorDef {
  readonly title: string;
  readonly hint: string;
}

/** The catalog. Add new codes here, never reuse or renumber an old one. */
export const RUNTIME_ERRORS = {
  NNU4001: { title: 'file not found', hint: 'check the path' },
  NNU4002: { title: 'image could not be read', hint: 'the file is corrupt, truncated or not in a supported format (.nii, .nii.gz, .nrrd, .mha)' },
  NNU4003: { title: 'unsupported image format', hint: 'convert the image to NIfTI (.nii.gz), NRRD or MHA' },
  NNU4004: { title: 'image could not be written', hint: 'check that the output folder exists and is writable' },
  NNU4005: { title: 'unsupported pixel layout', hint: 'nnuc reads scalar 2D/3D images; split 4D or multi-component images into one file per channel' },
  NNU4006: { title: 'channel images of a case disagree', hint: 'all channel files of a case must have the same shape and spacing' },
  NNU4010: { title: 'dataset.json missing or not valid JSON', hint: 'every dataset folder needs a dataset.json (see nnU-Net v2 dataset format)' },
  NNU4011: { title: 'dataset.json does not follow the schema', hint: 'required keys: channel_names, labels, numTraining, file_ending' },
  NNU4012: { title: 'invalid label definition', hint: 'labels map names to integers: "background": 0, then consecutive values; regions need regions_class_order; "ignore" = max label + 1' },
  NNU4013: { title: 'dataset folder incomplete', hint: 'a dataset folder holds dataset.json, imagesTr/ and labelsTr/' },
  NNU4020: { title: 'missing channel file', hint: 'each case needs one image per channel: {CASE}_0000{ending}, {CASE}_0001{ending}, ...' },
  NNU4021: { title: 'unexpected channel file', hint: 'channel indices must match channel_names in dataset.json' },
  NNU4022: { title: 'file does not follow the naming pattern', hint: 'imagesTr files are named {CASE}_{CCCC}{file_ending}, labelsTr files {CASE}{file_ending}' },
  NNU4023: { title: 'missing label file', hint: 'every training case needs labelsTr/{CASE}{file_ending}' },
  NNU4024: { title: 'label file without images', hint: 'remove the label or add the images of the case to imagesTr' },
  NNU4025: { title: 'number of cases differs from numTraining', hint: 'set numTraining in dataset.json to the number of training cases' },
  NNU4026: { title: 'shape mismatch', hint: 'images and label of a case must have the same shape' },
  NNU4027: { title: 'spacing mismatch', hint: 'images and label of a case must have the same spacing' },
  NNU4028: { title: 'origin mismatch', hint: 'images and label of a case should have the same origin (resample or fix the header)' },
  NNU4029: { title: 'direction mismatch', hint: 'images and label of a case should have the same direction (resample or fix the header)' },
  NNU4030: { title: 'label value not declared in dataset.json', hint: 'add the value to labels in dataset.json or fix the label map' },
  NNU4031: { title: 'non-integer label value', hint: 'label maps must hold integers' },
  NNU4032: { title: 'empty label map', hint: 'the label holds background only; check that the right file was used' },
  NNU4033: { title: 'non-finite intensities', hint: 'images must not contain NaN or infinite values' },
  NNU4040: { title: 'fingerprint failed for a case', hint: 'fix or remove the case named above (nnuc check-data lists all problems)' },
  NNU4041: { title: 'no training cases found', hint: 'imagesTr must hold files named {CASE}_{CCCC}{file_ending}' },
  NNU4042: { title: 'a worker thread failed', hint: 'rerun with --workers 1 to see the failure in the main thread' },
  NNU4050: { title: 'not a Medical Segmentation Decathlon task folder', hint: 'expected TaskXX_Name/ with dataset.json, imagesTr/ and labelsTr/' },
  NNU4051: { title: 'target dataset already exists', hint: 'choose another id with --id or remove the existing folder' },
  // NNU5xxx preprocessing and the preprocessed store
  NNU5001: { title: 'preprocessing failed for a case', hint: 'fix or remove the case named above (nnuc check-data lists dataset problems)' },
  NNU5002: { title: 'unknown normalization scheme', hint: 'use CTNormalization, ZScoreNormalization, NoNormalization, RescaleTo01Normalization or RGBTo01Normalization' },
  NNU5003: { title: 'normalization is missing an input', hint: 'CT normalization needs the fingerprint intensity properties; masked z-score needs the nonzero mask' },
  NNU5004: { title: 'RGB intensities out of range', hint: 'rgb_to_0_1 channels must hold values in [0, 255]' },
  NNU5005: { title: 'unsupported resampling settings', hint: 'nnuc resamples data with order 0/1/3, segmentations with order 0/1 and order_z 0/1' },
  NNU5010: { title: 'plan.json missing or invalid', hint: 'run nnuc compile to (re)write BUILD_DIR/plan.json' },
  NNU5011: { title: 'configuration not in the plan', hint: 'pick one of the configurations listed in plan.json (nnuc explain lists them)' },
  NNU5012: { title: 'dataset folder not found', hint: 'pass --dataset DIR (the raw dataset with dataset.json, imagesTr/, labelsTr/)' },
  NNU5020: { title: 'preprocessed case missing or corrupt', hint: 'rerun nnuc preprocess: it rewrites missing and damaged cases' },
  NNU5021: { title: 'preprocessed store is out of date', hint: 'the plan changed since preprocessing: rerun nnuc preprocess' },
  NNU5022: { title: 'case not in the preprocessed store', hint: 'check the case id, or rerun nnuc preprocess' },
  NNU5030: { title: 'a preprocessing worker failed', hint: 'rerun with --workers 1 to see the failure in the main thread' },
  // NNU7xxx inference, evaluation, selection, post-processing
  NNU7001: { title: 'array does not fit the sliding window', hint: 'the case array must be C×X×Y×Z and the patch 2 or 3 axes' },
  NNU7002: { title: 'invalid tile step', hint: 'use a tile step in (0, 1] (nnU-Net default 0.5)' },
  NNU7003: { title: 'non-finite logits', hint: 'the network produced inf or NaN; check the checkpoint and the input normalization' },
  NNU7004: { title: 'network output has the wrong shape', hint: 'the network must return [B, K, ...tile] logits for a [B, C, ...tile] batch' },
  NNU7005: { title: 'invalid mirror axes', hint: 'mirror axes are tile axes: (0, 1, 2) for 3D, (0, 1) for 2D' },
  NNU7006: { title: 'no model to predict with', hint: 'train at least one fold or pass --folds with trained folds' },
  NNU7007: { title: 'prediction does not fit the case geometry', hint: 'the logits, properties and plan transposes must agree; re-run preprocessing' },
  NNU7008: { title: 'previous-stage segmentation does not fit the case', hint: 'predict the previous stage (3d_lowres) for the same cases first' },
  NNU7010: { title: 'reference segmentation missing', hint: 'every prediction needs a reference file with the same name in the reference folder' },
  NNU7011: { title: 'no predictions found', hint: 'check the folder and the file ending (dataset.json file_ending)' },
  NNU7012: { title: 'prediction and reference shapes differ', hint: 'predictions must be written in the geometry of the reference' },
  NNU7013: { title: 'invalid label definition', hint: 'dataset.json labels: background = 0, integers or lists of integers, regions need regions_class_order' },
  NNU7020: { title: 'folders to ensemble do not match', hint: 'every folder must contain the same cases predicted with --save-probabilities' },
  NNU7021: { title: 'probabilities file could not be read', hint: 'the .npz file is corrupt or was not written by nnuc/nnU-Net (key probabilities)' },
  NNU7030: { title: 'invalid postprocessing file', hint: 'use the postprocessing.json written by nnuc find-best / determine-postprocessing' },
  NNU7040: { title: 'cross-validation results missing', hint: 'train and validate all requested folds of the configuration first' },
  NNU7050: { title: 'not a valid export folder', hint: 'pass a folder written by nnuc export (it holds nnuc-export.json); re-export it if the manifest was edited' },
  NNU7051: { title: 'exported network does not match the manifest', hint: 'an .onnx file is missing or was modified: re-export the folder with nnuc export' },
  NNU7052: { title: 'nothing trained to export', hint: 'train the fold first (nnuc train BUILD_DIR -c CONFIGURATION -f FOLD), or choose trained folds with --folds' },
  NNU7053: { title: 'export folder does not match the build', hint: 'the folder was exported from another plan or configuration: export this build again' },
  NNU7054: { title: 'configuration cannot be exported', hint: 'export a single-stage configuration (2d, 3d_fullres, 3d_lowres) with a supported opset' },
  NNU7055: { title: 'export output folder holds other files', hint: 'export into an empty or new folder, or into a previous export folder' },
  NNU6001: { title: 'network architecture not supported', hint: 'nnuc builds PlainConvUNet and ResidualEncoderUNet (Conv2d/Conv3d, InstanceNorm, LeakyReLU, odd kernels) from the plan' },
  NNU6002: { title: 'weights do not match the network', hint: 'the checkpoint was written for another architecture: retrain, or use the plan it was trained with' },
  NNU6003: { title: 'network input has the wrong shape', hint: 'the network takes channels-last [N, ...spatial, C] tensors; predictLogitsChannelsFirst takes [N, C, ...spatial]' },
  NNU6010: { title: 'too few cases for cross-validation', hint: 'add cases, train fold all, or write splits_final.json yourself' },
  NNU6011: { title: 'splits file is malformed', hint: 'splits_final.json must be a list of {"train": [...], "val": [...]}; delete it to recreate nnU-Net\'s split' },
  NNU6012: { title: 'split names unknown cases', hint: 'fix or delete splits_final.json (it is recreated with nnU-Net\'s rule)' },
  NNU6013: { title: 'no cases to train on', hint: 'check the split (splits_final.json) and the preprocessed data' },
  NNU6014: { title: 'training case without segmentation', hint: 'rerun nnuc preprocess: training cases need their label map' },
  NNU6015: { title: 'invalid training length', hint: 'epochs and iterations per epoch must be at least 1' },
  NNU6016: { title: 'augmentation not implemented', hint: 'set augment.elastic.p = 0 (nnU-Net v2 default)' },
  NNU6020: { title: 'cannot continue: training settings changed', hint: 'train from scratch (without --continue) or restore the previous plan' },
  NNU6021: { title: 'checkpoint is corrupt', hint: 'the file is damaged or not an nnuc checkpoint: use checkpoint_best/latest, or retrain' },
  NNU6022: { title: 'checkpoint not found', hint: 'train first (nnuc train), or check the fold and configuration' },
  NNU6030: { title: 'training diverged', hint: 'check the preprocessed data (NaN/inf intensities) or lower the learning rate' },
  NNU6040: { title: 'previous-stage segmentation missing', hint: 'train all folds of the previous stage (3d_lowres) first: their final validation writes results/<previous>/predicted_next_stage/<configuration>/<case>.npz' },
  NNU6041: { title: 'previous-stage segmentation does not fit the case', hint: 'the previous stage was validated against other preprocessed data: rerun its validation (nnuc train --val) for every fold' },
  NNU6101: { title: 'backend package not installed', hint: 'install the optional package, or choose another backend (--backend onednn|wasm|cpu)' },
  NNU6102: { title: 'GPU requested but not used', hint: 'fix the CUDA/cuDNN installation, pass --allow-cpu, or choose a CPU backend' },
  NNU6103: { title: 'native oneDNN backend unavailable', hint: 'apt-get install libdnnl-dev, then node native/build.mjs (or npm ci); or choose --backend wasm' },
  NNU6104: { title: 'unknown backend', hint: 'backends: auto, onednn, wasm, cpu, tfjs-node, tfjs-node-gpu' },
  NNU6105: { title: 'ONNX export failed', hint: 'the network uses an operation outside the exporter\'s op set' },
  NNU6106: { title: 'ONNX inference failed', hint: 'check that the .onnx file was written by nnuc export and matches the input shape' },
  NNU6107: { title: 'onnxruntime-node unavailable', hint: 'reinstall onnxruntime-node (npm ci; offline installs need onnxruntime-node-install=skip in .npmrc), or run the network on tfjs with --engine tfjs' },
  // NNU8xxx scale-out (nnuc jobs, sharded prediction)
  NNU8001: { title: 'invalid part', hint: '--part takes I/N: part I (0-based, as nnU-Net\'s part_id) of N (num_parts), 0 <= I < N, e.g. --part 0/4' },
  NNU8010: { title: 'job scripts cannot be written', hint: 'a name or option cannot be used in a job script: see the message, then rerun nnuc jobs' },
  NNU8011: { title: 'preprocessing job needs the raw dataset', hint: 'pass --dataset DIR (the raw dataset folder as the cluster nodes see it)' },
  // NNU91xx generated modules (runtime/api.ts, nnuc run)
  NNU9101: { title: 'generated modules do not match plan.json', hint: 'rerun nnuc compile: it rewrites plan.json and the generated modules together' },
  NNU9103: { title: 'bad argument to a generated entry', hint: 'train.ts: --fold N|all --continue --epochs N --iterations N --no-validation --backend B; predict.ts: -i IN -o OUT --folds 0,1 --no-mirror --step S' },
  NNU9104: { title: 'checkpoint trained with another plan', hint: 'retrain the fold with the current plan, or recompile the plan the fold was trained with' },
  NNU9105: { title: 'generated module could not be loaded', hint: 'run a train.ts or predict.ts that nnuc compile wrote (its folder has package.json with type module); recompile if it was edited' },
} as const satisfies Record<string, RuntimeErrorDef>;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS | `NNU${4 | 5 | 6 | 7 | 8 | 9}${number}`;

export class NnucError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly hint: string | undefined;
  constructor(code: RuntimeErrorCode, message: string, opts: { file?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'NnucError';
    this.code = code;
    this.file = opts.file;
    const def = (RUNTIME_ERRORS as Record<string, RuntimeErrorDef>)[code];
    this.hint = opts.hint ?? def?.hint;
  }

  /** `file: error NNU4002: message` plus an indented hint line. */
  format(): string {
    const where = this.file ? `${this.file}: ` : '';
    return `${where}error ${this.code}: ${this.message}` + (this.hint ? `\n  hint: ${this.hint}` : '');
  }
}

export function isNnucError(e: unknown): e is NnucError {
  return e instanceof NnucError;
}
