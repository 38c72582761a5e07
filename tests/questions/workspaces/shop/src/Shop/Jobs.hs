-- | Background jobs: shipping, reminders, refunds.
module Shop.Jobs
  ( Job (..)
  , JobResult (..)
  , Settings (..)
  , runJob
  , retryJob
  , schedule
  , jobLabel
  , refund
  ) where

import Shop.Types

data Settings = Settings
  { maxRetries :: Int
  , quietHours :: (Int, Int)
  } deriving (Show, Eq)

data Job
  = ShipOrder Order
  | SendReminder Int
  | Refund Order Money
  deriving (Show, Eq)

data JobResult = Done | Failed String | Retry Int
  deriving (Show, Eq)

runJob :: Job -> IO JobResult
runJob job = case job of
  ShipOrder _ -> pure Done
  SendReminder _ -> pure Done
  Refund _ amount
    | amount > 0 -> pure Done
    | otherwise -> pure (Failed "nothing to refund")

retryJob :: Int -> Job -> IO JobResult
retryJob 0 _ = pure (Failed "gave up")
retryJob n job = do
  result <- runJob job
  case result of
    Retry _ -> retryJob (n - 1) job
    other -> pure other

schedule :: Settings -> [Job] -> [(Int, Job)]
schedule settings jobs = zip [fst (quietHours settings) ..] jobs

jobLabel :: Job -> String
jobLabel (ShipOrder _) = "ship"
jobLabel (SendReminder _) = "remind"
jobLabel (Refund _ _) = "refund"

refund :: Order -> Job
refund order = Refund order (orderTotal order)
