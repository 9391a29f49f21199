/**
 * dataset.json → DatasetInfo (spec §1.2-1.3: channel names, label entries, regions, ignore label,
 * segmentation heads) and the image reader nnU-Net would pick.
 */
import type { DatasetInfo, LabelEntry } from './types.js';

export interface DatasetJson {
  readonly channel_names?: Readonly<Record<string, string>>;
  readonly modality?: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, number | readonly number[]>>;
  readonly numTraining: number;
  readonly file_ending: string;
  readonly regions_class_order?: readonly number[];
  readonly overwrite_image_reader_writer?: string;
  readonly [key: string]: unknown;
}

/** Channel names in channel-index order. */
export function channelNames(ds: DatasetJson): string[] {
  const m = ds.channel_names ?? ds.modality ?? {};
  return Object.keys(m)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => m[k]);
}

/** `determine_reader_writer`: the explicit override, else the first reader class supporting the file ending. */
export function imageReaderWriterFor(ds: DatasetJson): string {
  if (typeof ds.overwrite_image_reader_writer === 'string' && ds.overwrite_image_reader_writer !== '')
    return ds.overwrite_image_reader_writer;
  const e = ds.file_ending.toLowerCase();
  if (e === '.png' || e === '.bmp') return 'NaturalImage2DIO';
  if (e === '.tif' || e === '.tiff') return 'Tiff3DIO';
  return 'SimpleITKIO';
}

export function labelEntries(ds: DatasetJson): LabelEntry[] {
  return Object.entries(ds.labels).map(([name, value]) => ({ name, value: Array.isArray(value) ? [...value] : (value as number) }));
}

export function datasetInfo(ds: DatasetJson, name: string): DatasetInfo {
  const labels = labelEntries(ds);
  const ignore = labels.find((l) => l.name === 'ignore');
  const ignoreLabel = ignore && typeof ignore.value === 'number' ? ignore.value : null;
  const nonIgnore = labels.filter((l) => l.name !== 'ignore');
  const hasRegions = nonIgnore.some((l) => Array.isArray(l.value) && l.value.length > 1);
  let heads: number;
  if (hasRegions) {
    const fg = nonIgnore.filter((l) => {
      const v = Array.isArray(l.value) ? l.value : [l.value as number];
      return !v.every((x) => x === 0);
    });
    heads = fg.length;
  } else {
    const all = new Set<number>();
    for (const l of nonIgnore) for (const v of Array.isArray(l.value) ? l.value : [l.value as number]) all.add(v);
    heads = all.size;
  }
  return {
    name,
    channels: channelNames(ds),
    labels,
    has_regions: hasRegions,
    regions_class_order: ds.regions_class_order ? [...ds.regions_class_order] : null,
    ignore_label: ignoreLabel,
    num_segmentation_heads: heads,
    num_training: ds.numTraining,
    file_ending: ds.file_ending,
    image_reader_writer: imageReaderWriterFor(ds),
  };
}
