/**
 * Every provider preset Basalt ships, by config name (PocketBase's names). A provider config
 * whose name is not here is refused when the collection is saved.
 */
import type { ProviderPreset } from '../provider-preset.js';
import { apple } from './apple.js';
import { bitbucket } from './bitbucket.js';
import { box } from './box.js';
import { discord } from './discord.js';
import { facebook } from './facebook.js';
import { gitea } from './gitea.js';
import { gitee } from './gitee.js';
import { github } from './github.js';
import { gitlab } from './gitlab.js';
import { google } from './google.js';
import { instagram } from './instagram.js';
import { kakao } from './kakao.js';
import { lark } from './lark.js';
import { linear } from './linear.js';
import { livechat } from './livechat.js';
import { mailcow } from './mailcow.js';
import { microsoft } from './microsoft.js';
import { monday } from './monday.js';
import { notion } from './notion.js';
import { patreon } from './patreon.js';
import { planningcenter } from './planningcenter.js';
import { spotify } from './spotify.js';
import { strava } from './strava.js';
import { trakt } from './trakt.js';
import { twitch } from './twitch.js';
import { twitter } from './twitter.js';
import { vk } from './vk.js';
import { wakatime } from './wakatime.js';
import { yandex } from './yandex.js';
import { oidcPreset } from './oidc.js';

const ALL: ProviderPreset[] = [
  github,
  google,
  microsoft,
  apple,
  gitlab,
  discord,
  facebook,
  instagram,
  bitbucket,
  gitee,
  gitea,
  twitter,
  kakao,
  vk,
  yandex,
  spotify,
  twitch,
  strava,
  patreon,
  livechat,
  mailcow,
  planningcenter,
  linear,
  notion,
  monday,
  box,
  lark,
  trakt,
  wakatime,
  oidcPreset('oidc'),
  oidcPreset('oidc2'),
  oidcPreset('oidc3'),
];

export const PROVIDER_PRESETS: ReadonlyMap<string, ProviderPreset> = new Map(ALL.map((p) => [p.name, p]));

export function presetOf(name: string): ProviderPreset | undefined {
  return PROVIDER_PRESETS.get(name);
}
