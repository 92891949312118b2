/** The eight RAVDESS emotions in alphabetical order, as scikit-learn's LabelEncoder orders them. */
export const EMOTIONS = ['angry', 'calm', 'disgust', 'fearful', 'happy', 'neutral', 'sad', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];
