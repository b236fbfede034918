/**
 * One ActionCable connection per page to the hub's `meshprogress/cable`, shared by every widget view.
 *
 * Views never hold sockets: they `watch` a channel and get its payloads and connection state. Watchers of
 * the same channel share one ActionCable subscription (the hub sees one subscribe per identifier), and a
 * late watcher is handed the latest payload at once. The socket is closed when nothing is watched.
 */

import { ServerConnection } from '@jupyterlab/services';
import { createConsumer } from '@rails/actioncable';
import type { ChannelNameWithParams, Consumer, Subscription } from '@rails/actioncable';

import { cableUrl } from './logic';

/** What a watcher is told about its channel. */
export interface ChannelWatcher {
  received(payload: unknown): void;
  connected(): void;
  /** `willReconnect` is false when the hub closed the connection for good (e.g. unauthorized). */
  disconnected(willReconnect: boolean): void;
  rejected(): void;
}

interface Channel {
  subscription: Subscription;
  watchers: Set<ChannelWatcher>;
  connected: boolean;
  latest: unknown;
}

/** The cable URL of this page: the server's WebSocket base URL plus its token, if the page has one. */
export function pageCableUrl(): string {
  const settings = ServerConnection.makeSettings();
  return cableUrl(settings.wsUrl, settings.token);
}

/** Shared channels over one consumer; the consumer connects with the first watch. */
export class Cable {
  private consumer: Consumer | null = null;
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly url: () => string = pageCableUrl) {}

  /** Watch a channel such as `{channel: 'MeshProgressChannel', mesh_id: 7}`; call the result to stop. */
  watch(params: ChannelNameWithParams, watcher: ChannelWatcher): () => void {
    const key = JSON.stringify(params);
    let channel = this.channels.get(key);
    if (channel === undefined) {
      channel = this.subscribe(key, params);
    } else {
      if (channel.connected) {
        watcher.connected();
      }
      if (channel.latest !== undefined) {
        watcher.received(channel.latest);
      }
    }
    channel.watchers.add(watcher);
    const owner = channel;
    return () => {
      owner.watchers.delete(watcher);
      if (owner.watchers.size === 0 && this.channels.get(key) === owner) {
        this.channels.delete(key);
        owner.subscription.unsubscribe();
      }
      this.closeIfIdle();
    };
  }

  private subscribe(key: string, params: ChannelNameWithParams): Channel {
    if (this.consumer === null) {
      // A function, so a reconnect re-reads the URL (and token) of the page.
      this.consumer = createConsumer(this.url);
    }
    const channels = this.channels;
    const channel: Channel = {
      subscription: null as unknown as Subscription,
      watchers: new Set(),
      connected: false,
      latest: undefined
    };
    const each = (fn: (w: ChannelWatcher) => void): void => {
      // Copy: a watcher may stop watching from inside its callback.
      for (const watcher of Array.from(channel.watchers)) {
        fn(watcher);
      }
    };
    channel.subscription = this.consumer.subscriptions.create(params, {
      received(data: unknown): void {
        channel.latest = data;
        each(w => w.received(data));
      },
      connected(): void {
        channel.connected = true;
        each(w => w.connected());
      },
      disconnected({ willAttemptReconnect }: { willAttemptReconnect: boolean | undefined }): void {
        channel.connected = false;
        each(w => w.disconnected(willAttemptReconnect !== false));
      },
      rejected(): void {
        // ActionCable forgets a rejected subscription; the next watch subscribes anew.
        channel.connected = false;
        if (channels.get(key) === channel) {
          channels.delete(key);
        }
        each(w => w.rejected());
      }
    });
    this.channels.set(key, channel);
    return channel;
  }

  private closeIfIdle(): void {
    if (this.channels.size === 0 && this.consumer !== null) {
      this.consumer.disconnect();
      this.consumer = null;
    }
  }
}

let shared: Cable | null = null;

/** The page's cable, created on first use. */
export function sharedCable(): Cable {
  if (shared === null) {
    shared = new Cable();
  }
  return shared;
}
