/** The eight RAVDESS emotions and the dataset's file naming. */

/** In alphabetical order, as scikit-learn's LabelEncoder orders them: index = class id. */
export const EMOTIONS = ['angry', 'calm', 'disgust', 'fearful', 'happy', 'neutral', 'sad', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];

const CODES: Record<string, Emotion> = {
  '01': 'neutral', '02': 'calm', '03': 'happy', '04': 'sad', '05': 'angry', '06': 'fearful', '07': 'disgust', '08': 'surprised',
};

export interface RavdessClip {
  emotion: Emotion;
  /** Class index into EMOTIONS. */
  label: number;
  intensity: 'normal' | 'strong';
  statement: 1 | 2;
  repetition: 1 | 2;
  actor: number;
}

/**
 * Parses a RAVDESS speech file name, `03-01-EE-II-SS-RR-AA.wav` (modality 03 audio-only,
 * channel 01 speech, emotion, intensity, statement, repetition, actor); null if it is not one.
 */
export function parseRavdessName(fileName: string): RavdessClip | null {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const m = /^03-01-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)\.wav$/i.exec(base);
  if (!m) return null;
  const actor = Number(m[5]);
  if (actor < 1 || actor > 24) return null;
  const emotion = CODES[m[1]!]!;
  return {
    emotion,
    label: EMOTIONS.indexOf(emotion),
    intensity: m[2] === '02' ? 'strong' : 'normal',
    statement: Number(m[3]) as 1 | 2,
    repetition: Number(m[4]) as 1 | 2,
    actor,
  };
}

/**
 * The six speaker-independent folds of the EmoBox benchmark (Interspeech 2024): the test actors of
 * each fold, so results compare with published ones.
 */
export const EMOBOX_FOLDS: readonly (readonly number[])[] = [
  [1, 11, 20, 21], [4, 10, 12, 14], [8, 9, 19, 23], [3, 5, 7, 24], [2, 15, 16, 18], [6, 13, 17, 22],
];
