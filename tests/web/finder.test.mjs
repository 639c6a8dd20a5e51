// finder.test.mjs - the public service finder on the demo district: a
// search from a community, from the browser's location, "match for me",
// and input the page must refuse itself.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, shot, pageProblems } from "./harness.mjs";

let server, browser;
let place; // {street, community, hits}: a community with a dining place within 15 minutes

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // A community that has somewhere to eat within a 15-minute walk: try the
  // communities the meal places themselves are in (a bounded number) and
  // keep the one with the most.
  const offered = await server.call("GET", "/api/v1/facilities?service=meals&limit=500");
  const tried = new Set();
  for (const f of offered.items) {
    if (tried.size >= 12) break;
    if (!/^\d{9}(?!000)\d{3}$/.test(f.area_code) || tried.has(f.area_code)) continue;
    tried.add(f.area_code);
    const area = await server.call("GET", "/api/v1/areas/" + f.area_code);
    if (!area.point) continue;
    const found = await server.call("GET",
      `/api/v1/facilities?community=${f.area_code}&service=meals&minutes=15&limit=50`);
    if (found.items.length > (place ? place.hits.length : 0))
      place = { street: area.parent_code, community: area.code, name: area.name, hits: found.items };
  }
  assert.ok(place, "the demo district has a community with a meal place within 15 minutes");
});
after(async () => { await browser?.close(); await server?.stop(); });

/** Opens the finder and chooses the street and the community. */
async function openAt(page, street, community) {
  await page.goto(server.url + "/finder.html");
  await page.locator(`#street option[value="${street}"]`).waitFor({ state: "attached" });
  await page.selectOption("#street", street);
  await page.locator(`#community option[value="${community}"]`).waitFor({ state: "attached" });
  await page.selectOption("#community", community);
  await page.locator("#origin-line").waitFor({ state: "visible" });
}

/** Searches and answers the request the page made. */
async function search(page) {
  const req = page.waitForRequest((r) => r.url().includes("/api/v1/facilities?"));
  await page.locator("#search-go").click();
  const url = new URL((await req).url());
  await page.locator('#results[aria-busy="false"]').waitFor();
  await page.locator("#results-summary").filter({ hasText: /\d/ }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#map .fm-origin").length === 1);
  return url;
}

async function listed(page) {
  return page.locator("#result-list > li").evaluateAll((lis) =>
    lis.map((li) => ({ name: li.dataset.name, walk: Number(li.dataset.walk) })));
}

test("find a dining table near a community: the list and the map show what the API answers", async () => {
  const page = await newPage(browser, server);
  await openAt(page, place.street, place.community);
  await page.locator('#service option[value="meals"]').waitFor({ state: "attached" });
  await page.selectOption("#service", "meals");
  await page.selectOption("#minutes", "15");
  const url = await search(page);
  assert.equal(url.searchParams.get("community"), place.community);
  assert.equal(url.searchParams.get("service"), "meals");
  assert.equal(url.searchParams.get("minutes"), "15");

  const api = await server.call("GET",
    `/api/v1/facilities?community=${place.community}&service=meals&minutes=15&limit=50`);
  assert.deepEqual(await listed(page), api.items.map((f) => ({ name: f.name, walk: f.walk_minutes })));
  assert.match(await page.locator("#results-summary").textContent(),
    new RegExp(`步行 15 分钟内有 ${api.items.length} 家提供「助餐」的地方`));
  // Each card: the price with its unit, the walk, a phone to call.
  const first = page.locator("#result-list > li").first();
  const f0 = api.items[0];
  assert.match(await first.textContent(), new RegExp(`${f0.price.toFixed(2)} 元/餐`));
  assert.match(await first.textContent(), /步行约 \d+ 分钟/);
  if (f0.phone) assert.equal(await first.locator("a.tel").getAttribute("href"), "tel:" + f0.phone);
  assert.match(await first.locator(".badge").nth(1).textContent(), /营业中|现在未营业|暂停服务/);

  // The map: one marker per place, the origin marked, and the two linked.
  assert.equal(await page.locator("#map .fm-hit").count(), api.items.length);
  const n = api.items.length;
  await page.locator("#map .fm-hit").nth(n - 1).click();
  await page.locator(`#result-list > li:nth-child(${n}).current`).waitFor();
  await first.getByRole("button", { name: "在地图上看" }).click();
  await page.locator("#map .fm-hit.fm-current").filter({ hasText: "1" }).waitFor();
  assert.equal(await page.locator("#result-list > li.current").count(), 1);
  assert.equal(await page.locator("#result-list > li.current").getAttribute("data-name"), f0.name);
  await shot(page, "finder-search");

  // The choice is remembered on this device.
  await page.reload();
  await page.locator("#origin-line").waitFor({ state: "visible" });
  assert.equal(await page.inputValue("#street"), place.street);
  assert.equal(await page.inputValue("#community"), place.community);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();

  // On a phone.
  const phone = await newPage(browser, server, { mobile: true });
  await openAt(phone, place.street, place.community);
  await phone.selectOption("#service", "meals");
  await search(phone);
  assert.equal(await phone.locator("#result-list > li").count(), api.items.length);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling on a phone (page is ${width}px wide)`);
  await shot(phone, "finder-mobile");
  assert.deepEqual(pageProblems(phone), []);
  await phone.context().close();

  // In English with large text.
  const en = await newPage(browser, server, { lang: "en", large: true });
  await openAt(en, place.street, place.community);
  await en.selectOption("#service", "meals");
  await search(en);
  assert.match(await en.locator("#results-summary").textContent(),
    new RegExp(`${api.items.length} places? offering "Meals" within a 15-minute walk`));
  assert.match(await en.locator("#result-list > li").first().textContent(), /yuan per meal/);
  assert.equal(await en.getAttribute("html", "lang"), "en");
  await shot(en, "finder-en-large");
  assert.deepEqual(pageProblems(en), []);
  await en.context().close();
});

test("the map's markers take the keyboard: Tab to one, Enter picks its card", async () => {
  const page = await newPage(browser, server);
  await openAt(page, place.street, place.community);
  await page.locator('#service option[value=""]').waitFor({ state: "attached" });
  await page.selectOption("#service", "");
  await page.selectOption("#minutes", "30");
  await search(page);
  const n = await page.locator("#result-list > li").count();
  assert.ok(n > 1, "several places within a 30-minute walk of the demo community: " + n);
  const last = page.locator("#map .fm-hit").nth(n - 1);
  assert.equal(await last.getAttribute("tabindex"), "0");
  await last.focus();
  await page.keyboard.press("Enter");
  await page.locator(`#result-list > li:nth-child(${n}).current`).waitFor();
  assert.equal(await page.locator("#result-list > li.current").count(), 1);
  await page.locator("#map .leaflet-popup", { hasText: await page.locator(`#result-list > li:nth-child(${n})`).getAttribute("data-name") }).waitFor();
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("nothing within the walk: the page says so and widens the walk in one press", async () => {
  const catalogue = await server.call("GET", "/api/v1/services");
  let none = null;
  for (const svc of catalogue.items) {
    const r = await server.call("GET", `/api/v1/facilities?community=${place.community}&service=${svc.code}&minutes=5&limit=1`);
    if (!r.items.length) { none = svc; break; }
  }
  assert.ok(none, "some service is not within 5 minutes of the community");
  const page = await newPage(browser, server);
  await openAt(page, place.street, place.community);
  await page.locator(`#service option[value="${none.code}"]`).waitFor({ state: "attached" });
  await page.selectOption("#service", none.code);
  await page.selectOption("#minutes", "5");
  await search(page);
  const empty = page.locator("#results-empty");
  await empty.waitFor({ state: "visible" });
  assert.match(await empty.textContent(), /步行 5 分钟内没有找到/);
  assert.equal(await page.locator("#results-summary").textContent(), `步行 5 分钟内没有提供「${none.name_zh}」的地方`);
  assert.equal(await page.locator("#result-list > li").count(), 0);
  assert.equal(await page.locator("#map .fm-hit").count(), 0);
  await shot(page, "finder-empty", { fullPage: false });
  const req = page.waitForRequest((r) => r.url().includes("/api/v1/facilities?"));
  await page.getByRole("button", { name: "扩大到步行 10 分钟" }).click();
  assert.equal(new URL((await req).url()).searchParams.get("minutes"), "10");
  await page.locator("#results-summary").filter({ hasText: "步行 10 分钟内" }).waitFor();
  assert.equal(await page.inputValue("#minutes"), "10");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("use my location: a point in the district gives results from there", async () => {
  const f = place.hits[0];
  const page = await newPage(browser, server, { geolocation: { latitude: f.point.lat, longitude: f.point.lon, accuracy: 20 } });
  await page.goto(server.url + "/finder.html");
  await page.locator('#service option[value="meals"]').waitFor({ state: "attached" });
  await page.selectOption("#service", "meals");
  const req = page.waitForRequest((r) => r.url().includes("/api/v1/facilities?"));
  await page.locator("#use-location").click();
  const url = new URL((await req).url());
  // The list is drawn before the map; the page is busy until both are.
  await page.locator('#results[aria-busy="false"]').waitFor();
  assert.match(await page.locator("#origin-line").textContent(), /您现在的位置/);
  const near = url.searchParams.get("near");
  const api = await server.call("GET", `/api/v1/facilities?near=${near}&service=meals&minutes=15&limit=50`);
  assert.ok(api.items.some((x) => x.id === f.id));
  assert.deepEqual(await listed(page), api.items.map((x) => ({ name: x.name, walk: x.walk_minutes })));
  assert.equal(await page.locator("#map .fm-hit").count(), api.items.length);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();

  // Refused: a kind explanation, and the street and community still work.
  const refused = await newPage(browser, server);
  await refused.goto(server.url + "/finder.html");
  await refused.locator("#street option").nth(1).waitFor({ state: "attached" });
  await refused.locator("#use-location").click();
  const err = refused.locator("#where-error");
  await err.waitFor({ state: "visible" });
  assert.match(await err.textContent(), /没有得到允许|读不到|用时太长/);
  assert.match(await err.textContent(), /选择街道和社区/);
  await shot(refused, "finder-location-refused", { fullPage: false });
  assert.equal(await refused.locator("#results").isHidden(), true);
  assert.deepEqual(pageProblems(refused), []);
  await refused.context().close();
});

test("match for me: an 82-year-old living alone sees each need with the price after subsidy", async () => {
  const page = await newPage(browser, server);
  await openAt(page, place.street, place.community);
  await page.locator("#m-needs input").first().waitFor({ state: "attached" });
  await page.getByLabel("年龄（岁）").fill("82");
  await page.getByLabel("独自居住").check();
  const req = page.waitForRequest((r) => r.url().endsWith("/api/v1/match"));
  await page.getByRole("button", { name: "为我匹配" }).click();
  const body = JSON.parse((await req).postData());
  const expected = { profile: { living_alone: true, age: 82 }, community: place.community, minutes: 30, limit: 5 };
  assert.deepEqual(body, expected);
  await page.locator("#match-results .need").first().waitFor();

  const api = await server.call("POST", "/api/v1/match", expected);
  // Needs follow from the profile: 60+ and living alone.
  assert.deepEqual(api.needs.slice(0, 2), ["meals", "health_check"]);
  assert.ok(api.needs.includes("cleaning"));
  const shown = await page.locator("#match-results .need").evaluateAll((secs) => secs.map((s) => ({
    need: s.dataset.need,
    rows: [...s.querySelectorAll(".match-item")].map((li) => ({ id: Number(li.dataset.id), pay: Number(li.dataset.pay) })),
  })));
  assert.deepEqual(shown, api.needs.map((need) => ({
    need,
    rows: api.results.filter((r) => r.need === need).map((r) => ({ id: r.facility.id, pay: r.pay })),
  })));
  // The meal place's card says what they pay, under which rule, and why.
  const meal = api.results.find((r) => r.need === "meals");
  assert.ok(meal, "a meal place within 30 minutes");
  const card = page.locator('#match-results .need[data-need="meals"] .match-item').first();
  assert.match(await card.locator(".you-pay").textContent(),
    new RegExp(meal.pay === 0 ? "免费" : `您付 ${meal.pay.toFixed(2)} 元/餐`));
  if (meal.subsidy) assert.match(await card.locator(".rule").textContent(), new RegExp(`按「${meal.subsidy}」`));
  assert.ok(meal.pay <= meal.service.price);
  await card.locator("summary").click();
  assert.match(await card.locator(".reasons").textContent(), /步行约\d+分钟/);
  // One rounding for the walk (up, at least a minute): the card's figure is
  // the one the API's own reason gives.
  const cardMin = Number(/步行约 (\d+) 分钟/.exec(await card.locator(".walk").textContent())[1]);
  const reasonMin = Number(/步行约(\d+)分钟/.exec(await card.locator(".reasons").textContent())[1]);
  assert.equal(cardMin, reasonMin);
  assert.equal(cardMin, Math.max(1, Math.ceil(meal.walk_minutes)));
  await shot(page, "finder-match");

  // The same answer in English: the English half of the reasons.
  await page.getByRole("button", { name: "English" }).click();
  await page.locator("#match-results .match-summary").filter({ hasText: "Results for" }).waitFor();
  assert.match(await card.locator(".reasons").textContent(), /min walk/);
  assert.doesNotMatch(await card.locator(".reasons").textContent(), /步行/);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("bad input is explained on the page and sends nothing the server would refuse", async () => {
  const page = await newPage(browser, server);
  const calls = [];
  page.on("request", (r) => { if (/\/api\/v1\/(facilities\?|match)/.test(r.url())) calls.push(r.url()); });
  await openAt(page, place.street, place.community);
  await page.locator('#service option[value="meals"]').waitFor({ state: "attached" });

  await page.getByLabel("最高价格（元，可不填）").fill("十五块");
  await page.locator("#search-go").click();
  const priceErr = page.locator("#max-price-error");
  await priceErr.waitFor({ state: "visible" });
  assert.match(await priceErr.textContent(), /请填数字/);
  assert.equal(await page.getAttribute("#max-price", "aria-invalid"), "true");
  await page.locator("#what").scrollIntoViewIfNeeded();
  await shot(page, "finder-bad-input", { fullPage: false });
  // A price with no service chosen cannot be filtered on.
  await page.getByLabel("最高价格（元，可不填）").fill("20");
  await page.locator("#search-go").click();
  await priceErr.filter({ hasText: "先在「需要的服务」里选一项服务" }).waitFor();
  assert.equal(await page.locator("#results").isHidden(), true);

  await page.getByLabel("年龄（岁）").fill("两百");
  await page.getByLabel("每次最多能付（元，可不填）").fill("-3");
  await page.getByRole("button", { name: "为我匹配" }).click();
  await page.locator("#m-age-error").waitFor({ state: "visible" });
  assert.match(await page.locator("#m-budget-error").textContent(), /预算请填数字/);
  // Under 60, managing alone and not living alone implies no need: ask for one.
  await page.getByLabel("年龄（岁）").fill("45");
  await page.getByLabel("每次最多能付（元，可不填）").fill("");
  await page.getByRole("button", { name: "为我匹配" }).click();
  await page.locator("#match-error").filter({ hasText: "至少勾选一项" }).waitFor();
  assert.deepEqual(calls, [], "nothing was sent");

  // Corrected, the search goes through.
  await page.selectOption("#service", "meals");
  await page.getByLabel("最高价格（元，可不填）").fill("100");
  await search(page);
  assert.equal(await priceErr.isHidden(), true);
  assert.equal(new URL(calls[0]).searchParams.get("max_price"), "100");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();

  // A place far from the district: the server's reason, shown in step 1.
  const far = await newPage(browser, server, { geolocation: { latitude: 31.2304, longitude: 121.4737 } });
  await far.goto(server.url + "/finder.html");
  await far.locator("#street option").nth(1).waitFor({ state: "attached" });
  await far.locator("#use-location").click();
  const err = far.locator("#where-error");
  await err.waitFor({ state: "visible" });
  assert.match(await err.textContent(), /不在本区附近/);
  assert.match(await err.textContent(), /near/);
  assert.equal(await far.locator("#results").isHidden(), true);
  assert.deepEqual(pageProblems(far), []);
  await far.context().close();
});
