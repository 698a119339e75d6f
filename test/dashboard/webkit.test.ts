/** The dashboard's main path in WebKit, Safari's engine (Debian's WebKitGTK; main-path-journey.ts, webkit-driver.ts). */
import { describeMainPath } from './main-path-journey.js';
import { missingWebKit, openWebKit } from './webkit-driver.js';

describeMainPath('WebKit', missingWebKit(), openWebKit);
