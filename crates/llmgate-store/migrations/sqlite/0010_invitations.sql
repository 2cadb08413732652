-- LiteLLM's invitation links (`LiteLLM_InvitationLink`, its columns): an admin invites a user,
-- who sets a password with `/onboarding/claim_token`. The password lands in
-- `LiteLLM_UserTable.password` (0001).
CREATE TABLE IF NOT EXISTS "LiteLLM_InvitationLink" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "is_accepted" INTEGER NOT NULL DEFAULT 0,
    "accepted_at" TEXT,
    "expires_at" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "LiteLLM_InvitationLink_pkey" PRIMARY KEY ("id")
);
