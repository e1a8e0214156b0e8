// Messages between the LOCAL SIMULATED agent desktop (widget/dev/ccp.html) and the panel frames it hosts.
// The simulation stands in for Amazon Connect's agent workspace (the @amazon-connect SDK clients) and for a
// Streams CCP; its payloads reuse the SDKs' own types and names so tsc checks them against the packages:
// the workspace's lifecycle topics and request routes (@amazon-connect/contact `ContactLifecycleTopicKey`,
// `ContactRoutes`) and the Streams contact/connection state values (`connect.ContactStateType`,
// `connect.ConnectionType` in amazon-connect-streams' index.d.ts).
import type { AppContext } from "@amazon-connect/app";
import type {
  BaseContactLifecycleEvent,
  ContactLifecycleTopicKey,
  ContactRoutes,
  ParticipantData,
  ParticipantState,
} from "@amazon-connect/contact";

// -- the agent workspace (per-contact app instances: agent/sim.html) ----------------------------------
/** The ContactClient events the panel subscribes to, by the SDK's topic names. */
export type LifecycleTopic =
  | `${ContactLifecycleTopicKey.Connected}`
  | `${ContactLifecycleTopicKey.Missed}`
  | `${ContactLifecycleTopicKey.StartingACW}`
  | `${ContactLifecycleTopicKey.Cleared}`;

/** The ContactClient requests the panel makes, by the SDK's route names. */
export type RequestRoute =
  | `${ContactRoutes.getAttributes}`
  | `${ContactRoutes.listParticipants}`
  | `${ContactRoutes.getParticipantState}`;

export type ReplyValue = Record<string, string> | ParticipantData[] | ParticipantState;

export type ToApp =
  | { idbellen_sim: "create"; scope: NonNullable<AppContext["scope"]> }
  | { idbellen_sim: "destroy" }
  | { idbellen_sim: "event"; topic: LifecycleTopic; event: BaseContactLifecycleEvent }
  | { idbellen_sim: "reply"; requestId: number; ok: boolean; value?: ReplyValue };

export type FromApp =
  | { idbellen_sim: "ready" }
  | { idbellen_sim: "request"; requestId: number; route: RequestRoute; params: Record<string, unknown> }
  /** onCreate rejected: the real SDK sends a fatal error and the workspace closes the app */
  | { idbellen_sim: "fatal" };

// -- a Streams CCP page (one page, every contact of the agent: agent/sim-streams.html) ----------------
export type StreamsState =
  | `${connect.ContactStateType.CONNECTING}`
  | `${connect.ContactStateType.CONNECTED}`
  | `${connect.ContactStateType.MISSED}`
  | `${connect.ContactStateType.REJECTED}`
  | `${connect.ContactStateType.ENDED}`;

/** One contact of the agent's snapshot, as Streams' worker delivers it (the parts the panel reads). */
export interface StreamsContactData {
  contactId: string;
  state: StreamsState;
  connection: `${connect.ConnectionType.AGENT}` | `${connect.ConnectionType.MONITORING}`;
  /** Streams' AttributeDictionary shape; null while monitoring */
  attributes: Record<string, { name: string; value: string }> | null;
}

export type ToStreams = { idbellen_sim: "snapshot"; contacts: StreamsContactData[] };

export type FromStreams = { idbellen_sim: "ready" };
