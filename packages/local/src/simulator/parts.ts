// How many SMS parts a body takes, as providers bill and rate-limit them: GSM 03.38 when every
// character is in the GSM 7-bit alphabet (160 per single part, 153 per part of a long message,
// extension characters count twice), UCS-2 otherwise (70, or 67 per part: a 140-character
// Chinese message is 3 parts).

const gsmBasic =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const gsmExtension = '\f^{}\\[~]|€';

export type Encoding = 'GSM-7' | 'UCS-2';

export interface PartsEstimate {
  readonly encoding: Encoding;
  readonly parts: number;
}

export function estimateParts(body: string): PartsEstimate {
  let septets = 0;
  for (const char of body) {
    if (gsmBasic.includes(char)) septets += 1;
    else if (gsmExtension.includes(char)) septets += 2;
    else return ucs2(body);
  }
  return { encoding: 'GSM-7', parts: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

function ucs2(body: string): PartsEstimate {
  // UTF-16 code units: a character outside the BMP (an emoji) takes two.
  const units = body.length;
  return { encoding: 'UCS-2', parts: units <= 70 ? 1 : Math.ceil(units / 67) };
}
