#!/usr/bin/env node
// Drives RingCentral's official JavaScript SDK (@ringcentral/sdk, pinned in package.json)
// against a running ringlet, one flow per process, for tests/sdk/test_js_sdk.py.
//
//   node tests/sdk/js/flows.mjs <flow> < config.json   ->   result JSON on stdout
//
// The config names the server, the app and the credentials (see each flow). The result is what
// the flow saw through the SDK, plus `traffic`: every request the SDK sent and the answer it got
// (the token endpoint's form with secrets blanked), so the Python side can check what the SDK
// sent and validate every answer against the OpenAPI description. A flow that cannot run to its
// end (an unexpected SDK error) exits 1 with the error on stderr; errors a flow expects are part
// of its result. Nothing here decides pass or fail: the assertions live in the Python tests.

import RingCentral from '@ringcentral/sdk';
import {Subscriptions} from '@ringcentral/subscriptions';

const {SDK} = RingCentral;

const ME = '/restapi/v1.0/account/~/extension/~';
const STORE = `${ME}/message-store`;
const TOKEN_PATHS = new Set(['/restapi/oauth/token', '/restapi/oauth/revoke']);
const SECRET_FIELDS = new Set(['password', 'assertion', 'refresh_token', 'token']);

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// Poll `condition` every 50 ms until it holds; throws after `ms` with `what` in the message.
async function until(condition, what, ms = 30000) {
    const deadline = Date.now() + ms;
    while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
    }
}

// -- an SDK instance that records its traffic ---------------------------------------------------

let instances = 0;

function formOf(body) {
    if (typeof body !== 'string') return null;
    const form = {};
    for (const [name, value] of new URLSearchParams(body)) {
        form[name] = SECRET_FIELDS.has(name) && value ? '<secret>' : value;
    }
    return form;
}

class Session {
    // `options`: extra SDK options (refreshHandicapMs, handleRateLimit...).
    constructor(cfg, traffic, options = {}) {
        instances += 1;
        const sdkOptions = {
            server: cfg.server,
            clientId: cfg.clientId,
            appName: 'ringlet-tests',
            appVersion: '1.0.0',
            // dom-storage is shared by every SDK of the process: one cache prefix each.
            cachePrefix: `rc-${instances}-`,
            ...options,
        };
        if (cfg.clientSecret) sdkOptions.clientSecret = cfg.clientSecret;
        this.sdk = new SDK(sdkOptions);
        this.platform = this.sdk.platform();
        this.client = this.sdk.client();
        this.traffic = traffic;
        this.refreshes = 0;
        this.platform.on(this.platform.events.refreshSuccess, () => {
            this.refreshes += 1;
        });
        const pending = new Map();
        this.client.on(this.client.events.beforeRequest, request => {
            const url = new URL(request.url);
            const entry = {
                method: request.method,
                path: url.pathname,
                query: url.search,
                authorization: (request.headers.get('authorization') || '').split(' ')[0],
                clientIdHeader: request.headers.get('client-id'),
                userAgent: request.headers.get('x-user-agent'),
            };
            if (TOKEN_PATHS.has(url.pathname)) entry.form = formOf(request.originalBody);
            this.traffic.push(entry);
            pending.set(request, entry);
        });
        const answered = (request, response) => {
            const entry = pending.get(request);
            if (!entry || !response) return;
            pending.delete(request);
            entry.status = response.status;
            entry.contentType = response.headers.get('content-type') || '';
            entry.retryAfter = response.headers.get('retry-after');
            entry.rateLimit = Object.fromEntries(
                ['group', 'limit', 'remaining', 'window'].map(name => [name, response.headers.get(`x-rate-limit-${name}`)]),
            );
            // Read a copy now, before the flow consumes the original.
            entry.bodyPromise = response
                .clone()
                .text()
                .then(text => {
                    entry.body = text;
                });
        };
        this.client.on(this.client.events.requestSuccess, (response, request) => answered(request, response));
        this.client.on(this.client.events.requestError, error => answered(error.request, error.response));
    }

    async login(options) {
        await this.platform.login(options);
        return this.authData();
    }

    async authData() {
        const data = await this.platform.auth().data();
        return {
            access_token: data.access_token,
            token_type: data.token_type,
            expires_in: data.expires_in,
            refresh_token_expires_in: data.refresh_token_expires_in,
            owner_id: data.owner_id,
            scope: data.scope,
            endpoint_id: data.endpoint_id,
        };
    }

    async json(method, url, body, query, options) {
        const response = await this.call(method, url, body, query, options);
        return response.json();
    }

    call(method, url, body, query, options) {
        const p = this.platform;
        switch (method) {
            case 'GET':
                return p.get(url, query, options);
            case 'POST':
                return p.post(url, body, query, options);
            case 'PUT':
                return p.put(url, body, query, options);
            case 'PATCH':
                return p.patch(url, body, query, options);
            case 'DELETE':
                return p.delete(url, body, query, options);
            default:
                throw new Error(`unknown method ${method}`);
        }
    }

    // An API call that the SDK may refuse: what the application sees either way.
    async attempt(method, url, body, query, options) {
        return outcome(this.call(method, url, body, query, options));
    }
}

// What an application sees of a call: the answer, or the SDK's error (its message, and the
// answer it carries).
async function outcome(promise) {
    try {
        const response = await promise;
        return {ok: true, status: response.status, body: await bodyOf(response)};
    } catch (error) {
        const seen = {ok: false, message: error.message, originalMessage: error.originalMessage};
        if (error.response) {
            seen.status = error.response.status;
            seen.body = await bodyOf(error.response.clone());
        }
        if (error.retryAfter !== undefined) seen.retryAfter = error.retryAfter;
        return seen;
    }
}

async function bodyOf(response) {
    const text = await response.text();
    if (!text) return null;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

// A bare request with a given access token, outside any SDK: is the token still good?
async function tokenWorks(cfg, accessToken) {
    const response = await fetch(`${cfg.server}${ME}`, {headers: {Authorization: `Bearer ${accessToken}`}});
    const body = await response.json();
    return {status: response.status, errorCode: body.errorCode ?? null};
}

function smsBody(from, to, text) {
    return {from: {phoneNumber: from}, to: [{phoneNumber: to}], text};
}

function pagerBody(to, text) {
    return {to: to.map(extensionNumber => ({extensionNumber})), text};
}

function idsOf(list) {
    return list.records.map(record => record.id);
}

// -- the flows ------------------------------------------------------------------------------------

const FLOWS = {
    // cfg: server, clientId, clientSecret?, login (the subscriber), senderLogin, senderNumber,
    // subscriberNumber, subscriberId. The subscriber subscribes with @ringcentral/subscriptions
    // (WebSocket); the sender sends a Pager and an SMS; then ringlet's control drops the
    // subscriber's connection, the sender sends one more Pager while it is down, and the SDK's
    // auto-recovery (wsc) must bring it; then the subscriber unsubscribes.
    async ws_subscription(cfg, traffic) {
        const bob = new Session(cfg, traffic);
        await bob.login(cfg.login);
        const olivia = new Session(cfg, traffic);
        await olivia.login(cfg.senderLogin);
        const frames = [];
        const notifications = [];
        const subscriptions = new Subscriptions({sdk: bob.sdk});
        const subscription = subscriptions.createSubscription();
        subscription.on(subscription.events.notification, event => notifications.push(event));
        const filters = [STORE, `${STORE}/instant?type=SMS`];
        const wsSubscription = await subscription.setEventFilters(filters).register();
        const wse = wsSubscription.wse;
        const record = ws => ws.addEventListener('message', event => frames.push(String(event.data)));
        record(wse.ws);
        wse.eventEmitter.on('newWebSocketObject', record);
        const recoveries = [];
        wse.eventEmitter.on('autoRecoverSuccess', () => recoveries.push('Successful'));
        wse.eventEmitter.on('autoRecoverFailed', () => recoveries.push('Failed'));
        const subscriptionId = wsSubscription.subscriptionInfo.id;
        const arrived = (suffix, text) =>
            notifications.find(n => n.event.endsWith(suffix) && JSON.stringify(n.body).includes(text));

        await olivia.json('POST', `${ME}/company-pager`, pagerBody(['102'], 'pager over ws'));
        await until(() => arrived('/message-store', '"Pager"'), 'the Pager notification');
        await olivia.json('POST', `${ME}/sms`, smsBody(cfg.senderNumber, cfg.subscriberNumber, 'sms over ws'));
        await until(() => arrived('/instant?type=SMS', 'sms over ws'), 'the SMS notification');
        await until(() => arrived('/message-store', '"SMS"'), "the SMS's message-store notification");
        const beforeDrop = notifications.length;

        const listed = await (await fetch(`${cfg.server}/_ringlet/websocket/sessions?extensionId=${cfg.subscriberId}`, {headers: cfg.adminHeaders})).json();
        const [session] = listed.records;
        const dropped = await fetch(`${cfg.server}/_ringlet/websocket/sessions/${session.id}/drop`, {method: 'POST', headers: cfg.adminHeaders});
        await until(() => wse.ws.readyState !== 1, 'the dropped connection');
        const missed = await olivia.json('POST', `${ME}/company-pager`, pagerBody(['102'], 'missed while down'));
        await until(() => recoveries.length > 0, 'the SDK to recover');
        await until(() => notifications.length > beforeDrop, 'the missed notification');
        const afterRecovery = {
            recoveryState: wse.connectionDetails.recoveryState,
            subscriptionId: wse.subscription.subscriptionInfo.id,
            missed: notifications.slice(beforeDrop),
            missedSenderId: missed.id,
        };
        const relisted = await (await fetch(`${cfg.server}/_ringlet/websocket/sessions?extensionId=${cfg.subscriberId}`, {headers: cfg.adminHeaders})).json();

        await wsSubscription.revoke();
        const remaining = await bob.json('GET', '/restapi/v1.0/subscription');
        await wse.revoke();
        return {
            subscriptionId,
            notifications,
            frames,
            dropStatus: dropped.status,
            sessionBefore: session,
            sessionsAfter: relisted.records,
            recoveries,
            afterRecovery,
            remaining: remaining.records,
        };
    },

    // cfg: server, clientId, clientSecret?, login (password or jwt options for platform.login).
    // Log in, read the extension, log out, and try the old token again.
    async login_logout(cfg, traffic) {
        const s = new Session(cfg, traffic);
        const token = await s.login(cfg.login);
        const me = await s.json('GET', ME);
        const loggedInBefore = await s.platform.loggedIn();
        const logout = await s.platform.logout();
        return {
            token,
            me: {id: me.id, extensionNumber: me.extensionNumber, type: me.type},
            loggedInBefore,
            logoutStatus: logout.status,
            loggedInAfter: await s.platform.loggedIn(),
            afterLogout: await s.attempt('GET', ME),
            oldToken: await tokenWorks(cfg, token.access_token),
        };
    },

    // cfg: + ttl (s). The SDK takes a token for expired 60 s before its expires_in, so with a
    // lifetime of 60 + a few seconds it refreshes on its own a few seconds in, before the server
    // would refuse the token: no 401 on the way.
    async refresh_ahead(cfg, traffic) {
        const s = new Session(cfg, traffic);
        const first = await s.login({...cfg.login, access_token_ttl: cfg.ttl});
        const before = await s.json('GET', ME);
        await sleep((cfg.ttl - 60) * 1000 + 500);
        const after = await s.json('GET', ME);
        return {
            first,
            second: await s.authData(),
            before: before.id,
            after: after.id,
            refreshes: s.refreshes,
            firstToken: await tokenWorks(cfg, first.access_token),
        };
    },

    // cfg: + ttl (s), wait (ms). The SDK believes the token good for an hour (as when an app
    // restores saved auth data, or the clocks disagree) while the server lets it expire: the
    // call gets 401, the SDK drops the token (expires_in = -1), refreshes with
    // access_token_ttl=-1 and retries the call once. Then the SDK loses expires_in (as an app
    // that saved only part of the token would): its next refresh sends access_token_ttl=NaN.
    async refresh_after_401(cfg, traffic) {
        const s = new Session(cfg, traffic);
        const first = await s.login({...cfg.login, access_token_ttl: cfg.ttl});
        await s.platform.auth().setData({expire_time: Date.now() + 3600 * 1000});
        await sleep(cfg.wait);
        const afterExpiry = await s.attempt('GET', ME);
        const second = await s.authData();
        await s.platform.auth().setData({expires_in: 'lost'});
        const afterLoss = await s.attempt('GET', ME);
        return {first, second, third: await s.authData(), afterExpiry, afterLoss, refreshes: s.refreshes};
    },

    // cfg: + login. Two SDKs share one session (an app that copies its saved token to a second
    // process); the first logs out. The second's next call gets 401, its refresh is refused, and
    // the application sees the refresh's error.
    async session_ended_elsewhere(cfg, traffic) {
        const first = new Session(cfg, traffic);
        await first.login(cfg.login);
        const second = new Session(cfg, traffic);
        await second.platform.auth().setData(await first.platform.auth().data());
        const before = await second.attempt('GET', ME);
        await first.platform.logout();
        const refreshErrors = [];
        second.platform.on(second.platform.events.refreshError, error => refreshErrors.push(error.message));
        const after = await second.attempt('GET', ME);
        return {before, after, refreshErrors, loggedIn: await second.platform.loggedIn()};
    },

    // cfg: + sms {from, to, text}, pager {to: [extensionNumber], text}.
    async send(cfg, traffic) {
        const s = new Session(cfg, traffic);
        await s.login(cfg.login);
        const numbers = await s.json('GET', `${ME}/phone-number`);
        const sms = await s.json('POST', `${ME}/sms`, smsBody(cfg.sms.from, cfg.sms.to, cfg.sms.text));
        const pager = await s.json('POST', `${ME}/company-pager`, pagerBody(cfg.pager.to, cfg.pager.text));
        const reply = await s.json('POST', `${ME}/company-pager`, {text: 're', replyOn: pager.id});
        return {numbers: numbers.records, sms, pager, reply};
    },

    // cfg: + sender (login of the Pager's sender), text. The receiver (cfg.login) lists, reads,
    // marks read, fetches the content, deletes, and finds the message among the deleted.
    async message_store(cfg, traffic) {
        const sender = new Session(cfg, traffic);
        await sender.login(cfg.sender);
        const sent = await sender.json('POST', `${ME}/company-pager`, pagerBody(cfg.to, cfg.text));
        const s = new Session(cfg, traffic);
        await s.login(cfg.login);
        const unread = await s.json('GET', STORE, undefined, {messageType: ['Pager'], readStatus: ['Unread'], perPage: 10});
        const id = unread.records[0].id;
        const read = await s.json('GET', `${STORE}/${id}`);
        const byUri = await s.json('GET', read.uri); // the record's own absolute uri
        const content = await (await s.call('GET', read.attachments[0].uri)).text();
        // signUrl() puts the token in the query (for <img src>, downloads): no SDK, no header.
        const signed = await fetch(await s.platform.signUrl(read.attachments[0].uri));
        const signedContent = {status: signed.status, text: await signed.text()};
        const updated = await s.json('PUT', `${STORE}/${id}`, {readStatus: 'Read'});
        const stillUnread = await s.json('GET', STORE, undefined, {readStatus: 'Unread'});
        const deleted = await s.call('DELETE', `${STORE}/${id}`);
        const afterDelete = await s.json('GET', `${STORE}/${id}`);
        const alive = await s.json('GET', STORE);
        const deletedList = await s.json('GET', STORE, undefined, {availability: ['Deleted', 'Purged']});
        const purged = await s.call('DELETE', `${STORE}/${id}`, undefined, {purge: true});
        const afterPurge = await s.json('GET', `${STORE}/${id}`);
        // The sender deletes the whole conversation (deleteMessageByFilter).
        const byFilter = await sender.call('DELETE', STORE, undefined, {conversationId: [sent.conversationId]});
        const senderAlive = await sender.json('GET', STORE);
        return {
            sent: sent.id,
            byFilterStatus: byFilter.status,
            senderAlive: idsOf(senderAlive),
            sentConversation: sent.conversationId,
            unread: unread.records,
            unreadUri: unread.uri,
            read,
            byUri,
            content,
            signedContent,
            updated,
            stillUnread: idsOf(stillUnread),
            deleteStatus: deleted.status,
            afterDelete,
            alive: idsOf(alive),
            deletedList: idsOf(deletedList),
            purgeStatus: purged.status,
            afterPurge,
        };
    },

    // cfg: + sms {from, to: [numbers]}, unknownId. Several messages at once, through the SDK's
    // own multipart parser, and the JSON-array form; a bulk update and a bulk delete.
    async bulk(cfg, traffic) {
        const s = new Session(cfg, traffic);
        await s.login(cfg.login);
        const ids = [];
        for (const [i, to] of cfg.sms.to.entries()) {
            ids.push((await s.json('POST', `${ME}/sms`, smsBody(cfg.sms.from, to, `bulk ${i}`))).id);
        }
        const parse = async response => ({
            status: response.status,
            contentType: response.headers.get('content-type'),
            isMultipart: s.sdk.isMultipart(response),
            parts: await Promise.all(
                (await s.sdk.multipart(response)).map(async part => ({
                    status: part.status,
                    ok: part.ok,
                    body: await part.json(),
                })),
            ),
        });
        const many = await parse(await s.call('GET', `${STORE}/${[...ids, cfg.unknownId].join(',')}`));
        const arrayForm = await s.call('GET', `${STORE}/${ids.join(',')}`, undefined, undefined, {
            headers: {Accept: 'application/vnd.ringcentral.multipart+json'},
        });
        // Paging as an app does it: follow navigation.nextPage.uri until there is none.
        const pages = [];
        let page = await s.json('GET', STORE, undefined, {messageType: ['SMS'], perPage: 2});
        for (;;) {
            pages.push({ids: idsOf(page), paging: page.paging, navigation: Object.keys(page.navigation)});
            if (!page.navigation.nextPage || pages.length > 5) break;
            page = await s.json('GET', page.navigation.nextPage.uri);
        }
        const updated = await parse(await s.call('PUT', `${STORE}/${ids.join(',')}`, {readStatus: 'Unread'}));
        const deleted = await s.call('DELETE', `${STORE}/${ids.join(',')}`);
        const afterDelete = await s.json('GET', STORE, undefined, {availability: ['Deleted']});
        return {
            ids,
            many,
            arrayForm: {status: arrayForm.status, body: await arrayForm.json()},
            pages,
            updated,
            deleteStatus: deleted.status,
            afterDelete: idsOf(afterDelete),
        };
    },

    // cfg: + sms {from, to}. Full sync, then a new message and a change, then incremental sync.
    async sync(cfg, traffic) {
        const s = new Session(cfg, traffic);
        await s.login(cfg.login);
        const old = await s.json('POST', `${ME}/sms`, smsBody(cfg.sms.from, cfg.sms.to, 'before the full sync'));
        const full = await s.json('GET', `${ME}/message-sync`, undefined, {syncType: 'FSync', messageType: ['SMS']});
        const fresh = await s.json('POST', `${ME}/sms`, smsBody(cfg.sms.from, cfg.sms.to, 'after the full sync'));
        const incremental = await s.json('GET', `${ME}/message-sync`, undefined, {
            syncType: 'ISync',
            syncToken: full.syncInfo.syncToken,
        });
        const again = await s.json('GET', `${ME}/message-sync`, undefined, {
            syncType: 'ISync',
            syncToken: incremental.syncInfo.syncToken,
        });
        return {
            old: old.id,
            fresh: fresh.id,
            full: {ids: idsOf(full), syncInfo: full.syncInfo},
            incremental: {ids: idsOf(incremental), syncInfo: incremental.syncInfo},
            again: {ids: idsOf(again), syncInfo: again.syncInfo},
        };
    },

    // cfg: sessions {name: login options}, cases [{name, session, method, url, body?, query?}
    // or {name, login, clientId?, clientSecret?}]. Each case's outcome as the application
    // sees it.
    async errors(cfg, traffic) {
        const sessions = {};
        for (const [name, login] of Object.entries(cfg.sessions)) {
            sessions[name] = new Session(cfg, traffic);
            await sessions[name].login(login);
        }
        const results = {};
        for (const c of cfg.cases) {
            if (c.login) {
                const s = new Session({...cfg, ...(c.app || {})}, traffic);
                results[c.name] = await outcome(s.platform.login(c.login));
            } else {
                results[c.name] = await sessions[c.session].attempt(c.method, c.url, c.body, c.query);
            }
        }
        return results;
    },

    // cfg: + calls, handleRateLimit. `calls` reads of the extension in a row. Past the limit the
    // server answers 429 with Retry-After: the SDK emits rateLimitError and, told to handle
    // rate limits, waits that long and retries once; otherwise the application gets the error.
    async rate_limit(cfg, traffic) {
        const s = new Session(cfg, traffic, {handleRateLimit: cfg.handleRateLimit});
        await s.login(cfg.login);
        const rateLimitErrors = [];
        s.platform.on(s.platform.events.rateLimitError, error => {
            rateLimitErrors.push({status: error.response.status, message: error.message, retryAfter: error.retryAfter});
        });
        const calls = [];
        for (let i = 0; i < cfg.calls; i += 1) {
            const started = Date.now();
            const seen = await s.attempt('GET', ME);
            calls.push({...seen, ms: Date.now() - started});
        }
        return {calls, rateLimitErrors};
    },
};

// -- main -----------------------------------------------------------------------------------------

async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
}

async function main() {
    const name = process.argv[2];
    const flow = FLOWS[name];
    if (!flow) {
        process.stderr.write(`usage: node flows.mjs <${Object.keys(FLOWS).join('|')}> < config.json\n`);
        process.exit(2);
    }
    const cfg = JSON.parse(await readStdin());
    const traffic = [];
    const result = await flow(cfg, traffic);
    await Promise.all(traffic.map(entry => entry.bodyPromise));
    for (const entry of traffic) delete entry.bodyPromise;
    // Exit once written: a WebSocket client's timers must not keep the process alive.
    process.stdout.write(`${JSON.stringify({sdkVersion: SDK.version, result, traffic})}\n`, () => process.exit(0));
}

main().catch(error => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    if (error && error.response) process.stderr.write(`(HTTP ${error.response.status})\n`);
    process.exit(1);
});
