/** The nnuc version, written into generated banners and plans. Keep in sync with package.json (a test checks). */
export const VERSION = '0.1.0';
