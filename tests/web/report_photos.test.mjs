// report_photos.test.mjs - snap and report with the photos read on the page:
// the first photo's GPS position places the report and finds the similar
// reports nearby before anything is sent; a large photo is made smaller (and
// turned upright) on the way, its position sent as the form's point; photos
// the server would not take are named before sending; and web/js/exif.js
// reads exactly what the server reads, garbage included.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { startServer, launchBrowser, newPage, login, shot, pageProblems } from "./harness.mjs";

let server, browser, here;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const m = await server.call("GET", "/api/v1/map");
  here = { lat: Number(m.center.lat.toFixed(6)), lon: Number(m.center.lon.toFixed(6)) };
  await server.addUser("photo-volunteer", "volunteer", null, undefined, "孙志愿");
  await server.addUser("photo-neighbour", "resident", null, undefined, "周邻居");
  await server.addUser("photo-resident", "resident", null, undefined, "吴居民");
});
after(async () => { await browser?.close(); await server?.stop(); });

/** Metres between two {lat, lon}. */
function metres(a, b) {
  const R = 6371008.8, rad = Math.PI / 180;
  const h = Math.sin((b.lat - a.lat) * rad / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin((b.lon - a.lon) * rad / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}

// ---- making photos ----

/**
 * A TIFF structure as a camera writes it into EXIF: IFD0 with Orientation
 * (when given) and a pointer to a GPS IFD (when lat is given) holding the
 * references and the degrees, minutes and seconds as RATIONALs. order "II"
 * (little-endian) or "MM"; the refs and the rationals can be overridden to
 * make broken ones.
 */
function tiff({ order = "II", orientation, lat, lon, latRef, lonRef, latRationals, lonRationals, gpsOffset } = {}) {
  const le = order === "II";
  const ifd0Entries = (orientation ? 1 : 0) + (lat !== undefined ? 1 : 0);
  const ifd0 = 8, ifd0Len = 2 + ifd0Entries * 12 + 4;
  const gps = ifd0 + ifd0Len, gpsLen = 2 + 4 * 12 + 4;
  const latAt = gps + gpsLen, lonAt = latAt + 24;
  const buf = Buffer.alloc(lat !== undefined ? lonAt + 24 : gps);
  const u16 = (v, at) => (le ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
  const u32 = (v, at) => (le ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
  buf.write(order, 0, "latin1");
  u16(42, 2);
  u32(ifd0, 4);
  u16(ifd0Entries, ifd0);
  let e = ifd0 + 2;
  const entry = (tag, type, count, value, inlineShort = false) => {
    u16(tag, e); u16(type, e + 2); u32(count, e + 4);
    if (inlineShort) u16(value, e + 8); else u32(value, e + 8);
    e += 12;
  };
  if (orientation) entry(0x0112, 3, 1, orientation, true);
  if (lat === undefined) return buf;
  entry(0x8825, 4, 1, gpsOffset ?? gps);
  u16(4, gps);
  e = gps + 2;
  const ref = (tag, letter) => {
    u16(tag, e); u16(2, e + 2); u32(2, e + 4);
    buf.write(letter, e + 8, "latin1"); // "N\0" fits in the entry
    e += 12;
  };
  const dms = (v) => {
    const a = Math.abs(v), d = Math.floor(a), m = Math.floor((a - d) * 60);
    return [[d, 1], [m, 1], [Math.round(((a - d) * 60 - m) * 60 * 10000), 10000]];
  };
  const rationals = (at, list) => list.forEach(([n, d], i) => { u32(n, at + 8 * i); u32(d, at + 8 * i + 4); });
  ref(1, latRef ?? (lat < 0 ? "S" : "N"));
  entry(2, 5, 3, latAt);
  ref(3, lonRef ?? (lon < 0 ? "W" : "E"));
  entry(4, 5, 3, lonAt);
  rationals(latAt, latRationals ?? dms(lat));
  rationals(lonAt, lonRationals ?? dms(lon));
  return buf;
}

/** A JPEG APP1 "Exif" segment around `payload` (a TIFF, or any bytes). */
function app1(payload) {
  const body = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), payload]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** `jpeg` with `segment` put right after its start-of-image marker. */
const withSegment = (jpeg, segment) => Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);

/** A PNG with an eXIf chunk holding `exif`, after IHDR (CRC included, as the server checks it). */
function withExifChunk(png, exif) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(exif.length, 0);
  head.write("eXIf", 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), exif])), 0);
  const ihdrEnd = 8 + 12 + 13;
  return Buffer.concat([png.subarray(0, ihdrEnd), head, exif, crc, png.subarray(ihdrEnd)]);
}

/** A picture drawn by the browser: width x height, in `type`, with a
 * little noise when `grain` (so that a big one is big in bytes too, as a
 * phone's photo is). */
async function picture(page, width, height, type = "image/jpeg", grain = 0) {
  const b64 = await page.evaluate(async ([w, h, type, grain]) => {
    const c = new OffscreenCanvas(w, h);
    const g = c.getContext("2d");
    const sky = g.createLinearGradient(0, 0, w, h);
    sky.addColorStop(0, "#6c8fb3"); sky.addColorStop(1, "#d9c7a0");
    g.fillStyle = sky; g.fillRect(0, 0, w, h);
    g.fillStyle = "#7a5230"; g.fillRect(w * 0.1, h * 0.5, w * 0.5, h * 0.4);
    g.fillStyle = "#2b4a6f"; g.fillRect(w * 0.65, h * 0.1, w * 0.2, h * 0.8);
    if (grain) {
      const img = g.getImageData(0, 0, w, h);
      let seed = 12345;
      for (let i = 0; i < img.data.length; i += 4) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const n = ((seed >>> 16) % (2 * grain + 1)) - grain;
        img.data[i] += n; img.data[i + 1] += n; img.data[i + 2] -= n;
      }
      g.putImageData(img, 0, 0);
    }
    const blob = await c.convertToBlob({ type, quality: 0.92 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, [width, height, type, grain]);
  return Buffer.from(b64, "base64");
}

/** Runs exif.js's readPhoto (or readExif, for a bare TIFF) in the page on each buffer. */
async function readInPage(page, buffers, fn = "readPhoto") {
  return page.evaluate(async ([list, fn]) => {
    const exif = await import("/js/exif.js");
    return list.map((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      return exif[fn](bytes);
    });
  }, [buffers.map((b) => b.toString("base64")), fn]);
}

/** Posts a multipart case as `as` straight to the API (not through the page). */
async function postForm(fields, files, as) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [name, bytes, type] of files) fd.append("photo", new Blob([bytes], { type }), name);
  return server.call("POST", "/api/v1/cases", fd, as);
}

async function reportPage(user, opts) {
  const page = await newPage(browser, server, opts);
  await login(page, user, null, "/report.html");
  await page.locator("#report-map.leaflet-container").waitFor();
  await page.locator("#category option[value=sanitation]").waitFor({ state: "attached" });
  return page;
}

/** Waits until every chosen photo is read and ready to send. */
async function photosReady(page) {
  await page.locator("#photos-size", { hasText: /照片共约|The photos come to/ }).waitFor();
}

// ---- the tests ----

test("exif.js reads what the server reads, and nothing from garbage", async () => {
  const page = await newPage(browser, server);
  await page.goto(server.url + "/");
  const jpeg = await picture(page, 40, 30);
  const spot = { lat: here.lat + 0.00031, lon: here.lon - 0.00042 };

  // bare TIFF structures, both byte orders, every hemisphere
  const [ii, mm, sw, noGps, zero, over, zeroDen, badRef, twoRationals, gpsPastEnd, cut, empty, notTiff] =
    await readInPage(page, [
      tiff({ order: "II", orientation: 6, lat: 39.9123456, lon: 116.4654321 }),
      tiff({ order: "MM", orientation: 3, lat: 39.9123456, lon: 116.4654321 }),
      tiff({ order: "MM", lat: -33.8567844, lon: -70.6482 }),
      tiff({ order: "II", orientation: 8 }),
      tiff({ lat: 0, lon: 0 }),
      tiff({ lat: 45, lon: 10, latRationals: [[91, 1], [0, 1], [0, 1]] }),
      tiff({ lat: 39.9, lon: 116.4, lonRationals: [[116, 1], [24, 0], [0, 1]] }),
      tiff({ lat: 39.9, lon: 116.4, latRef: "X" }),
      (() => {
        const t = tiff({ order: "II", lat: 39.9, lon: 116.4 });
        const gps = 8 + 2 + 12 + 4; // after IFD0: its count, one entry, the next-IFD link
        t.writeUInt32LE(2, gps + 2 + 12 + 4); // GPSLatitude's count: 2 rationals, not 3
        return t;
      })(),
      tiff({ lat: 39.9, lon: 116.4, gpsOffset: 0x7ffffff0 }),
      tiff({ order: "MM", lat: 39.9, lon: 116.4 }).subarray(0, 70),
      Buffer.alloc(0),
      Buffer.from("GIF89a this is no TIFF at all"),
    ], "readExif");
  assert.equal(ii.orientation, 6);
  assert.ok(Math.abs(ii.gps.lat - 39.9123456) < 1e-7 && Math.abs(ii.gps.lon - 116.4654321) < 1e-7, JSON.stringify(ii));
  assert.equal(mm.orientation, 3);
  assert.deepEqual(mm.gps, ii.gps);
  assert.ok(sw.gps.lat < -33.85 && sw.gps.lon < -70.64, JSON.stringify(sw));
  assert.deepEqual(noGps, { orientation: 8, gps: null });
  for (const [name, r] of Object.entries({ zero, over, zeroDen, badRef, twoRationals, gpsPastEnd, cut, empty, notTiff }))
    assert.equal(r.gps, null, name + ": " + JSON.stringify(r));

  // whole files: JPEG and PNG, the EXIF where the server looks for it
  const png = await picture(page, 20, 10, "image/png");
  const full = withSegment(jpeg, app1(tiff({ order: "MM", orientation: 6, lat: spot.lat, lon: spot.lon })));
  const xmpFirst = withSegment(full, (() => {
    const body = Buffer.from("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>", "latin1");
    const h = Buffer.from([0xff, 0xe1, 0, 0]); h.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([h, body]);
  })());
  // two Exif blocks: the first counts
  const secondIgnored = withSegment(withSegment(jpeg, app1(tiff({ lat: 10, lon: 10 }))),
    app1(tiff({ order: "MM", orientation: 6, lat: spot.lat, lon: spot.lon })));
  const pngExif = withExifChunk(png, Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff({ lat: spot.lat, lon: spot.lon })]));
  const truncated = full.subarray(0, full.length - 40); // no end marker: the server refuses it whole
  const garbageApp1 = withSegment(jpeg, app1(Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 89 + 7) & 0xff))));
  const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761 >>> 13) & 0xff));
  const [a, b, c, d, e, f, g, h] = await readInPage(page,
    [full, xmpFirst, secondIgnored, pngExif, truncated, garbageApp1, noise, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noise])]);
  assert.equal(a.type, "image/jpeg");
  assert.equal(a.width, 40);
  assert.equal(a.height, 30);
  assert.equal(a.orientation, 6);
  assert.ok(metres(a.gps, spot) < 0.01);
  assert.deepEqual(b.gps, a.gps);
  assert.deepEqual(c.gps, a.gps);
  assert.equal(d.type, "image/png");
  assert.equal(d.width, 20);
  assert.ok(metres(d.gps, spot) < 0.01);
  assert.equal(e.gps, null);
  assert.deepEqual([f.type, f.width, f.gps, f.orientation], ["image/jpeg", 40, null, 1]);
  assert.deepEqual([g.type, g.gps], [null, null]);
  assert.deepEqual([h.type, h.gps], ["image/jpeg", null]);

  // The server reads the same position from the same bytes: sent without
  // a point, the case is placed where the page said.
  const byJpeg = await postForm({ category: "sanitation" }, [["a.jpg", full, "image/jpeg"]], "photo-resident");
  assert.ok(metres(byJpeg.point, a.gps) < 0.05, JSON.stringify([byJpeg.point, a.gps]));
  const byPng = await postForm({ category: "sanitation" }, [["b.png", pngExif, "image/png"]], "photo-resident");
  assert.ok(metres(byPng.point, d.gps) < 0.05);
  // and, like the page, nothing from garbage: no location, so no case
  await assert.rejects(postForm({ category: "sanitation" }, [["c.jpg", garbageApp1, "image/jpeg"]], "photo-resident"),
    (err) => err.status === 422 && /location is required/.test(JSON.stringify(err.body)));
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a photo's position places the report and shows the similar reports nearby", async () => {
  const spot = { lat: here.lat - 0.0011, lon: here.lon + 0.0009 };
  const other = await server.call("POST", "/api/v1/cases",
    { category: "sanitation", title: "垃圾桶满了没人清", point: { lat: spot.lat + 0.0002, lon: spot.lon } }, "photo-neighbour");

  const page = await reportPage("photo-volunteer", { mobile: true });
  await page.getByLabel("问题类别").selectOption("sanitation");
  const photo = withSegment(await picture(page, 64, 48), app1(tiff({ order: "II", orientation: 1, lat: spot.lat, lon: spot.lon })));
  await page.getByLabel("从相册选择").setInputFiles({ name: "IMG_3001.jpg", mimeType: "image/jpeg", buffer: photo });

  // placed from the photo, said in words and on the marker, nearby found
  const where = page.locator("#point-text", { hasText: "来自第 1 张照片" });
  await where.waitFor();
  const shown = (await where.textContent()).match(/(\d+\.\d+), (\d+\.\d+)/);
  assert.ok(metres({ lat: Number(shown[1]), lon: Number(shown[2]) }, spot) < 2);
  await page.locator("#report-map .leaflet-marker-icon.from-photo").waitFor();
  assert.match(await page.locator("#report-map .leaflet-tooltip.photo-point").textContent(), /来自照片的位置/);
  assert.equal(await page.locator("#clear-location").isVisible(), false);
  const item = page.locator(`#nearby-list [data-nearby-id="${other.id}"]`);
  await item.waitFor();
  assert.match(await item.textContent(), /垃圾桶满了没人清.*约 2\d 米/s);
  await photosReady(page);
  assert.match(await page.locator("#photos-size").textContent(), /照片共约 \d+ KB/);
  assert.doesNotMatch(await page.locator("#photo-list").textContent(), /已缩小/);
  await page.evaluate(() => document.getElementById("report-map").scrollIntoView({ block: "start" }));
  await shot(page, "report-photo-point", { fullPage: false });

  // A place chosen on the map comes first; clearing it brings the photo's back.
  const box = await page.locator("#report-map").boundingBox();
  await page.mouse.click(box.x + box.width / 2 + 30, box.y + box.height / 2 + 20);
  await page.locator("#point-text", { hasNotText: "照片" }).waitFor();
  assert.equal(await page.locator("#report-map .leaflet-marker-icon.from-photo").count(), 0);
  await page.getByRole("button", { name: "清除位置" }).click();
  await where.waitFor();

  // sent: the point travels as lat and lon, and the case is where the photo was
  const posts = [];
  page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/api/v1/cases")) posts.push(r); });
  await page.getByRole("button", { name: "提交上报" }).click();
  await page.locator("#report-done").waitFor();
  assert.equal(posts.length, 1);
  const body = posts[0].postDataBuffer().toString("latin1");
  assert.match(body, /name="lat"\r\n\r\n39\.\d+\r\n/);
  assert.match(body, /name="lon"\r\n\r\n116\.\d+\r\n/);
  const id = Number((await page.locator("#done-open").getAttribute("href")).split("=")[1]);
  const c = await server.call("GET", `/api/v1/cases/${id}`, undefined, "photo-volunteer");
  assert.ok(metres(c.point, spot) < 3, JSON.stringify([c.point, spot]));
  assert.equal(c.photos.length, 1);
  assert.equal(c.photos[0].width, 64); // small: sent as it was
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a large photo is made smaller and upright before sending, and its position still arrives", async () => {
  const spot = { lat: here.lat + 0.0007, lon: here.lon + 0.0004 };
  const page = await reportPage("photo-volunteer");
  // a phone's photo: 4000x3000 stored sideways (orientation 6: turn it a quarter right)
  const raw = await picture(page, 4000, 3000, "image/jpeg", 6);
  const photo = withSegment(raw, app1(tiff({ order: "MM", orientation: 6, lat: spot.lat, lon: spot.lon })));
  await page.getByLabel("问题类别").selectOption("public_facility");
  await page.getByLabel("从相册选择").setInputFiles({ name: "IMG_4000.JPG", mimeType: "image/jpeg", buffer: photo });
  await page.locator("#point-text", { hasText: "来自第 1 张照片" }).waitFor();
  await photosReady(page);
  const size = await page.locator("#photos-size").textContent();
  assert.match(size, /较大的照片已缩小：1 张/);
  assert.match(await page.locator("#photo-list .photo-size").textContent(), /已缩小/);
  await shot(page, "report-photo-shrunk");

  const posts = [];
  page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/api/v1/cases")) posts.push(r); });
  await page.getByRole("button", { name: "提交上报" }).click();
  await page.locator("#report-done").waitFor();
  assert.equal(posts.length, 1);
  assert.ok(posts[0].postDataBuffer().length < photo.length, "the request is smaller than the photo on disk");
  const id = Number((await page.locator("#done-open").getAttribute("href")).split("=")[1]);
  const c = await server.call("GET", `/api/v1/cases/${id}`, undefined, "photo-volunteer");
  assert.ok(metres(c.point, spot) < 3, JSON.stringify([c.point, spot]));
  const p = c.photos[0];
  assert.equal(p.type, "image/jpeg");
  assert.deepEqual([p.width, p.height], [1536, 2048], "upright, 2048 on the longer side");
  assert.ok(p.size < photo.length, `${p.size} < ${photo.length}`);
  // the stored photo is a picture a browser decodes
  const r = await fetch(server.url + p.url, { headers: { Authorization: "Bearer " + (await server.token("photo-volunteer")) } });
  assert.equal(r.status, 200);
  const stored = Buffer.from(await r.arrayBuffer());
  assert.equal(stored.length, p.size);
  const decoded = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
    return [bmp.width, bmp.height];
  }, stored.toString("base64"));
  assert.deepEqual(decoded, [1536, 2048]);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("photos the server would not take are named before sending", async () => {
  // A server that takes little in one request: the page learns its limit.
  const small = await startServer(["--photo-body-max", "65536"]);
  try {
    await small.addUser("photo-small", "resident", null, undefined, "郑居民");
    const page = await newPage(browser, small);
    await login(page, "photo-small", null, "/report.html");
    await page.locator("#report-map.leaflet-container").waitFor();
    await page.locator("#category option[value=sanitation]").waitFor({ state: "attached" });
    await page.getByLabel("问题类别").selectOption("sanitation");
    const photo = await picture(page, 1200, 900, "image/jpeg", 4);
    assert.ok(photo.length > 65536, "the photo is bigger than the limit: " + photo.length);
    await page.getByLabel("从相册选择").setInputFiles({ name: "IMG_5000.jpg", mimeType: "image/jpeg", buffer: photo });
    const box = await page.locator("#report-map").boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.locator("#point-text", { hasText: "已选位置" }).waitFor();
    await page.locator("#photos-size", { hasText: "超过了一次上报最多能带的 64 KB" }).waitFor();
    let posted = 0;
    page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/api/v1/cases")) posted++; });
    await page.getByRole("button", { name: "提交上报" }).click();
    await page.locator("#report-error", { hasText: "请删去几张再提交" }).waitFor();
    assert.equal(posted, 0, "nothing was sent");
    assert.equal((await small.call("GET", "/api/v1/cases?mine=true", undefined, "photo-small")).items.length, 0);
    assert.deepEqual(pageProblems(page), []);
    await page.context().close();
  } finally {
    await small.stop();
  }
});

test("garbage EXIF and a position outside the district do not place the report, nor break the page", async () => {
  const page = await reportPage("photo-resident", { lang: "en" });
  const jpeg = await picture(page, 48, 36);
  const other = await picture(page, 36, 48); // not the same picture: the server keeps one of each
  const garbage = withSegment(jpeg, app1(Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 131 + 17) & 0xff))));
  const loops = (() => { const t = tiff({ lat: 39.9, lon: 116.4 }); t.writeUInt32LE(8, 8 + 2 + 8); return t; })(); // GPS IFD = IFD0
  const shanghai = withSegment(jpeg, app1(tiff({ lat: 31.2304, lon: 121.4737 })));
  await page.getByLabel("Kind of problem").selectOption("sanitation");
  await page.getByLabel("Choose photos").setInputFiles([
    { name: "broken.jpg", mimeType: "image/jpeg", buffer: garbage },
    { name: "loop.jpg", mimeType: "image/jpeg", buffer: withSegment(other, app1(loops)) },
  ]);
  await photosReady(page);
  assert.match(await page.locator("#point-text").textContent(), /No location chosen yet/);
  // the first photo with a position lies in Shanghai: said, and not used
  await page.getByLabel("Choose photos").setInputFiles({ name: "travel.jpg", mimeType: "image/jpeg", buffer: shanghai });
  await page.locator("#point-text", { hasText: "outside the district" }).waitFor();
  assert.match(await page.locator("#point-text").textContent(), /photo 3 \(31\.23040, 121\.47370\)/);
  const mine = async () => (await server.call("GET", "/api/v1/cases?mine=true", undefined, "photo-resident")).items.length;
  const before = await mine();
  await page.getByRole("button", { name: "Send report" }).click();
  await page.locator("#report-error", { hasText: "Choose a location" }).waitFor();
  assert.equal(await mine(), before, "nothing was sent");
  // Without that photo, nothing is placed; a place on the map sends all the rest.
  await page.getByRole("button", { name: "Remove photo 3" }).click();
  await page.locator("#point-text", { hasText: "No location chosen yet" }).waitFor();
  const box = await page.locator("#report-map").boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.locator("#point-text", { hasText: "Chosen location" }).waitFor();
  await page.getByRole("button", { name: "Send report" }).click();
  await page.locator("#report-done").waitFor();
  const id = Number((await page.locator("#done-open").getAttribute("href")).split("=")[1]);
  const c = await server.call("GET", `/api/v1/cases/${id}`, undefined, "photo-resident");
  assert.equal(c.photos.length, 2);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});
