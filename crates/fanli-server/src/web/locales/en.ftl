# fanli's pages in English (chosen with ?lang=en, the cookie or Accept-Language). Every message
# here has its namesake in zh-CN.ftl (a test checks it).
# Messages are named by the page that says them: the console's pages (nav-, plan-, members-, member-,
# webhook-, …), the member's own phone page (/m) my-, the join page (/join) join-. The member page has its
# own words for events, ledger rules, accounts and figures (my-event-, my-rule-, my-account-, my-label-),
# not always the console's.

## Header and navigation
nav-overview = Overview
nav-plan = Plan
nav-members = Members
nav-reviews = Reviews
nav-withdrawals = Withdrawals
nav-votes = Votes
nav-audit = Audit
nav-webhook = Webhook
nav-log-out = Log out
switch-language = 中文
error-title = Something went wrong
error-needs-whole = This page needs the owner's or a read-only key.
error-form-expired = The form expired: reload the page.
owner-decides = Only the owner's key decides.

## Login
login-title = Operator console
login-key = Operator key
login-enter = Enter
login-note = The key only opens a session; it never appears in a URL.
login-expired = The login form expired: try again.
login-unknown-key = Unknown key.
login-member-token = A member token cannot open the console.

## Overview
overview-no-plan = No plan yet.
overview-put-one = Put one
overview-members = Members
overview-orders = Orders
overview-lines = Log lines
overview-days = Days closed
pools-title = Pools
pools-mechanism = Mechanism
pools-pool = Pool
pools-owed = Owed
pools-owed-since = Owed since
pools-paid = Paid
pools-paid-today = Paid today
pools-price = Price
pools-queue = Queue
pools-queue-line = { $entries } entries, { $amount }, oldest { $oldest }
pools-note = Owed since: the first day close after the last one at which the pool owed nothing. Paid today: since the last day close.
charts-title = Over time
charts-none = No day closed yet: the charts start with the first close_day.
chart-price = Appreciation price
chart-pools = Pools
chart-owed = Owed
chart-per-day = New members and orders per day
chart-new-members = New members
chart-orders = Orders
export-members = Download all members (CSV)
export-members-parts = Many members: download in parts of at most { $per }:
export-pools = Download the pools (CSV)
export-reports = Download every daily report (CSV)

## Plan
plan-check = fanli check
plan-text = The plan (TOML)
plan-none = No plan yet.
plan-new-version = A new version
plan-put = Check and put
plan-check-only = Check only
plan-owner-only = Only the owner's key puts a plan.
plan-amended = Amendment { $version } recorded, in force from { $at }.
plan-not-live = The log has not begun: a plan put now is in force at once.
plan-in-force = Version { $version } is in force.
plan-would-refuse = It would be refused.
plan-would-accept = It would be accepted.
plan-red-line = Refused: the plan crosses a red line.
plan-refused = Refused ({ $code }): { $message }
findings-level = Level
findings-rule = Rule
findings-key = Key
findings-key-line = { $key } (line { $line })
findings-finding = Finding
findings-none = No finding.
simulate-title = Simulation
simulate-note = The default scenario, on the plan in force (or the text above, when given).
simulate-days = Days
simulate-seed = Seed
simulate-run = Run
simulate-done = Simulated { $days } days (seed { $seed }).
simulate-overflow = The simulation stopped: an event could not be computed: 
simulate-internal = The simulation stopped: an internal error (see the server's log).
simulate-outcome = { $members } members, { $spenders } with spend; made whole: { $whole } ({ $share }); received ÷ spent p10 { $p10 }, median { $p50 }, p90 { $p90 }; paid { $paid }; unpaid { $unpaid } to { $unpaid_members } members: { $owed } owed by the pools, { $waiting } waiting on future members' money.
simulate-risk = Risk grade: { $grade }.
simulate-risk-measures = Members made whole (their spend back, or all that was promised): { $whole } ({ $whole_grade }); promises unpaid that wait on future members: { $unpaid } of the spend ({ $unpaid_grade }); pools beyond what they owe: { $pool } of the spend ({ $pool_grade }). The thresholds are in docs/risk.md.

## Versions and amendments
versions-title = Versions
versions-waiting = Version { $version } takes effect at { $at }.
versions-none = No version yet.
versions-state = State
versions-recorded = Recorded
versions-effective = Effective
versions-line = Log line
versions-live = The log has begun: a new version is recorded in it as an amendment; one that lowers what members can earn takes effect no sooner than the plan's notice_days.
versions-effective-at = Effective at ({ $offset })
versions-empty-now = Empty: at once.
versions-bad-time = The effective time “{ $value }” is not a date and time.
standing-base = base
standing-in-force = in force
standing-superseded = superseded
standing-waiting = waiting
standing-proposed = put to the vote
compare-title = What changes for the members
compare-note = Effective at the soonest it may be, { $at }; both plans run from the log's end:
compare-paid = Paid
compare-owed = Owed
compare-waiting = Waiting
compare-old-plan = Plan in force
compare-new-plan = New plan
compare-changed = { $changed } / { $members } members end with other figures.
compare-old = old
compare-new = new

## Members
members-search-hint = member id or phone
members-find = Find
members-all = All members
members-nobody = Nobody found.
members-none = No member yet.
members-page = { $from }–{ $to } of { $total }
members-joined = Joined #
members-member = Member
members-referrer = Referrer
members-phone = Phone
members-spent = Spent
members-wallet = Wallet
members-prev = ‹ Previous
members-next = Next ›
members-order-note = The order by id, spend or wallet is brought up to date at most every { $seconds } seconds; the amounts are today's.
member-title = Member { $member }
member-none = No member { $member }.
member-credit = Credit
member-standing = In each mechanism
member-received = received
member-owed = owed
member-history = History
member-latest = (latest { $count })
member-nothing = Nothing yet.
member-tree = Referral tree
member-tree-levels = (3 levels)
member-tree-none = Nobody referred yet.
history-line = Line
history-event = Event
history-rule = Rule
history-mechanism = Mechanism
history-account = Account
history-amount = Amount

## Reviews
reviews-title = Review queue
reviews-pending-count = { $count } pending
reviews-done = Decided: { $count }.
reviews-none = No referral held.
reviews-evidence = Rules and evidence
reviews-status = Status
reviews-held-at = held { $at }
reviews-approved = approved
reviews-rejected = rejected
reviews-pending = pending
reviews-approve = Approve selected
reviews-reject = Reject selected
reviews-which = Approve or reject?
decide-approve = Approve
decide-reject = Reject
evidence-contact = { $kind } { $value } has { $count } members, at most { $max }
evidence-shares-referrer = shares { $kind } { $value } with their referrer
evidence-shares-upline = shares { $kind } { $value } with their upline { $levels } levels up
evidence-burst = the referrer's { $nth }th referee within { $hours } hours, at most { $max }
evidence-quiet = one order of at most { $amount }, then none for { $days } days

## Withdrawals
withdrawals-title = Withdrawals
withdrawals-count = { $count } waiting · held ¥{ $held }
withdrawals-done = Decided: { $member }
withdrawals-no-rules = The plan has no [withdrawal]: withdrawals are paid at once, whole.
withdrawals-none = No withdrawal waiting.
withdrawals-fee = Fee
withdrawals-net = Paid out
withdrawals-asked-at = Asked at
withdrawals-note = Approved: paid less the fee set when asked; rejected: the amount goes back to the member's wallet.
withdrawals-which = Which member, and approve or reject?

## Votes
votes-title = Members' vote
votes-rules = { $days } days to vote · weight: { $weight } · quorum { $quorum } · majority > { $majority }
votes-by-spend = settled spend
votes-one-each = one a member
votes-no-rules = The plan has no [vote]: no vote can be opened.
votes-done = Done: { $proposal }
votes-none = No proposal yet.
votes-proposal = Proposal
votes-opened = Opened
votes-closes = Closes
votes-yes = Yes
votes-no = No
votes-voters = Voters
votes-outcome = Outcome
votes-passed = passed
votes-effective = effective { $at }
votes-not-recorded = not recorded: { $code }
votes-eligible = eligible { $count }
votes-failed = failed
votes-short = short of the quorum
votes-open = open
votes-closed = closed, not counted
votes-tally = Tally
votes-propose = Put a new plan to the vote
votes-proposal-id = Proposal id
votes-open-vote = Open the vote
votes-propose-note = The new plan is checked by fanli check, then as an amendment is; a passed one takes effect under the notice rule.
votes-owner-only = Only the owner's key opens and counts votes.
votes-which-plan = Proposal and plan?
votes-which = Which proposal?
votes-check-refuses = fanli check refuses this plan: { $findings }

## Audit
audit-lines = Lines in the log
audit-head = Chain head (SHA-256)
audit-signed-head = Signed tree head (Merkle tree)
audit-no-signed-head = No signed head yet: once a plan is in force, every commit signs one.
audit-tree-size = Lines in the tree
audit-tree-root = Root (SHA-256)
audit-signed-at = Signed at
audit-public-key = Public key (Ed25519)
audit-signature = Signature
audit-signed-note = Members and regulators can save this head and later check with it that the log was neither rewritten nor cut short:
audit-verify = Anyone can replay the log with fanli audit verify and check the head and the reports:
audit-reports = Daily pool reports
audit-no-report = No day closed yet.
audit-closed-at = Closed at
audit-chain = Chain
audit-mechanisms = Mechanisms: pool / owed / paid (price)
audit-writes = Writes
audit-before = (before line { $line })
audit-empty = The log is empty.
audit-at = At
audit-key = Key
audit-server = the server (or before keys had ids)
audit-older = Older
audit-versions = Plan versions
audit-version = Version
audit-settings = Settings beside the log
audit-setting = Setting
audit-brand = brand { $brand }
audit-store = store { $store } in brand { $brand }
audit-webhook = webhook
audit-keys = Keys
audit-keys-first = (first { $count }: GET /v1/keys lists them all)
audit-role = Role
audit-made = Made
audit-revoked = Revoked
audit-by = by { $key }

## The engine's ids: roles
role-owner = owner
role-brand_manager = brand manager
role-store_operator = store operator
role-read_only = read-only
role-member = member

## Finding levels
level-error = error
level-warning = warning

## Mechanism kinds
kind-appreciation = Appreciation
kind-refer_refund = Refer and refund
kind-queue = Rebate queue
kind-distribution = Distribution
kind-green_points = Green points
kind-cycle = Cycle
kind-ad_tasks = Ad tasks
kind-loyalty = Loyalty points
kind-coalition = Coalition points

## Event types
event-join = Join
event-store = Store
event-agent = Agent
event-order = Order
event-refund = Refund
event-sell = Sell points
event-withdraw = Withdrawal
event-topup = Top-up
event-redeem = Redemption
event-inject = Injection
event-advertiser_fund = Advertiser funding
event-ad_view = Ad view
event-close_day = Day close
event-review = Referral review
event-amend_plan = Plan amendment
event-withdrawal_review = Withdrawal review
event-propose = Proposal
event-vote = Vote
event-tally = Tally

## Ledger rules
rule-payment = payment
rule-credit_spent = credit spent
rule-funding = pool funding
rule-cancel = cancel
rule-refund = refund
rule-withdraw = withdrawal
rule-topup = top-up
rule-inject = injection
rule-mint = points minted
rule-sell = points sold
rule-exit = exit
rule-referral = referral reward
rule-indirect = indirect referral reward
rule-repurchase = repurchase
rule-acceleration = accelerated release
rule-release = release
rule-due = paid when due
rule-level = level reward
rule-rank = rank reward
rule-peer = peer reward
rule-regional = regional reward
rule-recruiter = recruiter reward
rule-returned = returned
rule-grant = grant
rule-daily_release = daily release
rule-share_release = share release
rule-team_release = team release
rule-dividend = dividend
rule-honor = honor reward
rule-task_points = task points
rule-advertiser_fund = advertiser funds
rule-ad_view = ad view reward
rule-earn = points earned
rule-referee_bonus = referee bonus
rule-topup_bonus = top-up bonus
rule-expire = expired
rule-redeem = redemption
rule-cashout = cash-out
rule-clawback = clawback
rule-withdrawal_fee = withdrawal fee
rule-withdrawal_held = withdrawal held
rule-withdrawal_returned = withdrawal returned

## Accounts
account-wallet = wallet
account-credit = credit
account-points = points

## Anti-fraud rules and contacts
fraud-device = too many members on a device
fraud-phone = too many members on a phone
fraud-ip = too many members on an IP
fraud-shared-device = shares a device with the referrer
fraud-ring = referral ring
fraud-burst = too many referrals at once
fraud-quiet = quiet after one order
contact-device = device
contact-phone = phone
contact-ip = ip

## A member's figures in each mechanism
figure-ahead = ahead
figure-at = at
figure-base = base
figure-basis = basis
figure-cashed_out = cashed out
figure-counted = counted
figure-daily = daily
figure-entries = entries
figure-exit_price = exit price
figure-exits = exits
figure-expired = expired
figure-expiring_soon = expiring soon
figure-holders = holders
figure-honor = honor
figure-honor_fund = honor fund
figure-issued = issued
figure-lots = lots
figure-net = net
figure-next_expiry = next expiry
figure-next_reward = next reward
figure-next_share = next share
figure-oldest_since = oldest since
figure-participants = participants
figure-partner = partner
figure-partners = partners
figure-period = period
figure-points = points
figure-position = position
figure-price = price
figure-progress = progress
figure-queued = queued
figure-quota = quota
figure-redeemed = redeemed
figure-referrals = referrals
figure-released = released
figure-returned = returned
figure-rewards = rewards
figure-settlement = settlement
figure-shares = shares
figure-tier = tier
figure-value = value
figure-views = views
figure-waiting = waiting
figure-within_days = within days
figure-year_points = year's points
figure-year_spend = year's spend

## The member's page (/m, the member's own phone page)
my-title = My rebates
my-member = Member { $member }
my-invalid-link = This link is not valid: ask the shop for a new member link.
my-try-later = Please try again in a moment.
my-not-a-member-link = This is not a member's link: the page opens with a member token only.
my-link-no-host = The referral link needs the request's host name.
my-no-plan = There is no rebate scheme yet.
my-not-found = Your membership was not found.
my-referral-held = waiting for review
my-referral-approved = approved
my-referral-rejected = rejected
my-balances = Balances
my-worth-now = worth now { $value }
my-projection = An honest projection
my-projection-note = Three groups, never added together: only the first is certain.
my-certain = Already yours (certain)
my-certain-note = Paid into your wallet and store credit.
my-certain-total = Certain, in total
my-paid-so-far = Paid to you so far by each scheme (already in the balances above, unless withdrawn or spent):
my-owed = Owed by a pool (promised, not certain)
my-owed-note = Paid oldest first when the pool has money, and only new orders bring it money.
my-owed-none = Nothing is owed to you.
my-owed-total = Owed in total { $total }
my-pool-paused = This pool is short now: its payouts are paused.
my-future = Depends on future members (not certain)
my-future-note = These figures move and may never be paid: they come only if new members join and buy. Do not count them as income.
my-future-none = None.
my-points-value-note = { $points } points at today's price, which moves with the pool; cash only once sold.
my-queue-value-note = Waiting in the queue: paid in turn, only as new orders bring the pool money.
my-next-reward-note = Next reward: only if one more qualifying member joins through you.
my-quota-note = Quota left: paid by future dividends, if any.
my-progress = Referral progress · { $mechanism }
my-round = This round: { $progress }
my-next-reward = Your next qualifying referral brings
my-next-share = Your next qualifying order brings back, of itself
my-no-next = No further reward.
my-referrals-all = Referrals in all
my-held-count = { $count } waiting for review
my-queue = Queue · { $mechanism }
my-not-queued = You are not in the queue now.
my-queue-note = The queue pays in turn: what is ahead of you is paid first, and payments come only from new orders.
my-expiring = Points expiring
my-next-expiry = { $mechanism }: { $points } points expire at { $date }
my-expiring-soon = { $mechanism }: { $points } points expire within { $days ->
    [one] { $days } day
   *[other] { $days } days
}
my-details = Details
my-held = Waiting for review
my-history = History
my-history-latest = (latest { $count } · UTC{ $offset })
my-history-none = Nothing yet.
my-invite = Invite friends
my-qr-alt = My referral QR code
my-qr-note = Long-press the code to scan or save it, or send the link:
my-share = Share my referral link
my-save-qr = Save the QR code
my-closed = This shop does not take members online: your friends join in the shop, giving your member name { $member }.
my-no-link = The referral link could not be made.

## The member's page: a coming rule change
my-coming = Coming rule change
my-coming-from = { $at } the new rules apply from then on.
my-coming-added = Added: { $list }
my-coming-retired = Retired: { $list }
my-coming-still-paid = (what it owes you is still paid)
my-coming-changed = Settings changed: { $list }
my-coming-withdrawal = withdrawal terms
my-coming-until = Until then the current rules apply.

## The member's page: the signed log and proofs
my-signed-log = The signed log
my-signed-note = Every record is a leaf of a Merkle tree whose root the platform signs after each write. Download a record's proof to check, with the public key alone, that it was not changed.
my-head-size = Records
my-head-root = Root
my-head-time = Signed at
my-head-key = Public key
my-proof = Proof
my-proof-which = Which record? `line` is missing.

## The member's page: withdrawal and vote
my-withdrawal = Withdrawal
my-withdrawing = Waiting for review { $amount }
my-withdrawing-note = This money is held out of your wallet: paid less its fee once approved, or back in your wallet if rejected.
my-vote-title = Members' vote
my-vote-none = No proposal now.
my-vote-eligible = Members with settled spend may vote.
my-proposal = Proposal { $proposal }
my-vote-counts = Yes { $yes } · No { $no } · { $voters } voted · closes { $closes }
my-vote-passed = Passed
my-vote-effective = in force from { $at }
my-vote-failed = Did not pass
my-voted = You voted
my-vote-waiting = The vote has closed: waiting for the count.
my-vote-yes = Yes
my-vote-no = No
my-vote-which = Yes or no?
my-already-voted = You have voted already.
my-vote-closed = The vote has closed.

## The member's page: the figures' names
my-label-wallet = Wallet
my-label-credit = Store credit
my-label-spent = Spent
my-label-received = Paid to you
my-label-owed = Owed to you by the pool
my-label-points = Points
my-label-value = Points' value now
my-label-basis = Basis
my-label-exit_price = Exit price
my-label-base = Refund base
my-label-referrals = Referrals
my-label-progress = This round
my-label-next_reward = Next reward
my-label-next_share = Next step's share
my-label-entries = Queue entries
my-label-waiting = Waiting in the queue
my-label-position = Position
my-label-ahead = Queued ahead of you
my-label-lots = Lots
my-label-daily = Daily release
my-label-quota = Quota
my-label-shares = Shares
my-label-honor = Honor
my-label-tier = Tier
my-label-year_spend = Spent this year
my-label-year_points = Points this year
my-label-next_expiry = Next expiry
my-label-expiring_soon = Expiring soon
my-label-within_days = within days
my-label-at = date
my-label-referrer = Referred by
my-label-referral = My referral
my-label-held = Referrals waiting for review
my-label-team_sales = Team sales
my-label-refunded = Refunded

## The member's page: ledger rules (as members say them)
my-rule-payment = payment
my-rule-credit_spent = credit spent
my-rule-funding = funding
my-rule-cancel = cancel
my-rule-refund = refund
my-rule-withdraw = withdraw
my-rule-topup = topup
my-rule-inject = inject
my-rule-mint = mint
my-rule-sell = sell
my-rule-exit = exit
my-rule-referral = referral
my-rule-indirect = indirect
my-rule-repurchase = repurchase
my-rule-acceleration = acceleration
my-rule-release = release
my-rule-due = due
my-rule-level = level
my-rule-rank = rank
my-rule-peer = peer
my-rule-regional = regional
my-rule-recruiter = recruiter
my-rule-returned = returned
my-rule-grant = grant
my-rule-daily_release = daily release
my-rule-share_release = share release
my-rule-team_release = team release
my-rule-dividend = dividend
my-rule-honor = honor
my-rule-task_points = task points
my-rule-advertiser_fund = advertiser fund
my-rule-ad_view = ad view
my-rule-earn = earn
my-rule-referee_bonus = referee bonus
my-rule-topup_bonus = topup bonus
my-rule-expire = expire
my-rule-redeem = redeem
my-rule-cashout = cashout
my-rule-clawback = clawback
my-rule-withdrawal_fee = withdrawal fee
my-rule-withdrawal_held = withdrawal held
my-rule-withdrawal_returned = withdrawal returned

## The member's page: event types (as members say them)
my-event-join = join
my-event-order = order
my-event-refund = refund
my-event-sell = sell
my-event-withdraw = withdraw
my-event-topup = topup
my-event-redeem = redeem
my-event-inject = inject
my-event-advertiser_fund = advertiser fund
my-event-ad_view = ad view
my-event-close_day = close day
my-event-review = review
my-event-agent = agent
my-event-store = store
my-event-withdrawal_review = withdrawal review
my-event-vote = vote

## The member's page: accounts
my-account-wallet = wallet
my-account-credit = store credit
my-account-points = points

## The join page (/join)
join-title = Join
join-incomplete = The link is incomplete: ask for the whole invitation link.
join-no-shop = This shop was not found: the link may be wrong; ask for a new one.
join-no-scheme = This shop has no member scheme yet.
join-unknown-referrer = The referrer is not a member of this shop: the link may be wrong; ask for a new one.
join-closed = This shop does not take members online: join in the shop, and name your referrer there.
join-too-many = Too many attempts: try again in { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
join-name-missing = Please choose a member name.
join-bad-phone = The phone number is not right: digits only (a leading + is fine), 6 to 15 of them.
join-failed = Joining failed: please try again.
join-failed-because = Joining failed: please try again ({ $error })
join-try-later = Please try again in a moment.
join-no-member-link = You joined, but your member link could not be made: ask the shop for it. ({ $error })
join-taken = This member name is taken: please choose another.
join-bad-name = A member name is not blank, has at most 64 characters and no control characters.
join-self-referral = You cannot refer yourself: choose another member name.
join-refused = Could not join: { $reason }
join-referrer = Referred by { $referrer }
join-member-name = Member name
join-member-note = Your name in this shop; it cannot be changed later.
join-phone = Phone (optional)
join-submit = Join
join-note = Rebates come from future orders and members: they are not certain income. Joining opens your own member page: bookmark its link.

## The webhook
webhook-title = Webhook
webhook-unreadable = The outbox could not be read.
webhook-counts = { $pending } pending · { $delivered } delivered · { $dead } dead
webhook-url = URL: { $url }
webhook-url-none = none
webhook-retrying = The oldest pending one has failed { $attempts ->
    [one] once
   *[other] { $attempts } times
} · { $error }
webhook-replayed = Replayed: { $count }
webhook-owner-sees = Only the owner's key sees and replays dead letters.
webhook-none = No dead letter.
webhook-replay-all = Replay all
webhook-id = Id
webhook-line = Line
webhook-type = Type
webhook-attempts = Attempts
webhook-last-error = Last error
webhook-given-up = Given up
webhook-replay = Replay
webhook-replay-note = Replayed: sent again with the same id (X-Fanli-Delivery), its attempts counted from 0.
webhook-owner-replays = Only the owner's key replays dead letters.
webhook-no-such = No such dead letter.
webhook-replay-failed = The replay failed.

## Risk grades (docs/risk.md)
grade-low = low
grade-medium = medium
grade-high = high
grade-severe = severe
