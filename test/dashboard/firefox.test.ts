/** The dashboard's main path in Debian's Firefox ESR (main-path-journey.ts, firefox-driver.ts). */
import { describeMainPath } from './main-path-journey.js';
import { missingFirefox, openFirefox } from './firefox-driver.js';

describeMainPath('Firefox', missingFirefox(), openFirefox);
