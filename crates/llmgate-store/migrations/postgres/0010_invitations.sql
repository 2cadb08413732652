-- LiteLLM's invitation links (`LiteLLM_InvitationLink`, its columns): an admin invites a user,
-- who sets a password with `/onboarding/claim_token`. The password lands in
-- `LiteLLM_UserTable.password` (0001). No foreign keys: `created_by` may be the admin's
-- `default_user_id`, which is no user row here.
CREATE TABLE IF NOT EXISTS "LiteLLM_InvitationLink" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "is_accepted" BOOLEAN NOT NULL DEFAULT false,
    "accepted_at" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "LiteLLM_InvitationLink_pkey" PRIMARY KEY ("id")
);
