-- | The shop's vocabulary: items, orders and their status.
module Shop.Types
  ( Money
  , Sku
  , Category (..)
  , Item (..)
  , Status (..)
  , OrderLine (..)
  , Order (..)
  , Discount (..)
  , Priority (..)
  , lineTotal
  , orderTotal
  , isOpen
  , describeStatus
  , categoryLabel
  ) where

import Data.Text (Text)
import qualified Data.Text as T
import Data.Time (Day)

-- | Cents.
type Money = Int

type Sku = Text

data Category = Books | Music | Games | Garden
  deriving (Show, Eq, Ord, Enum, Bounded)

data Item = Item
  { itemSku :: Sku
  , itemName :: Text
  , itemPrice :: Money
  , itemCategory :: Category
  } deriving (Show, Eq)

data Status
  = Pending
  | Paid Day
  | Shipped Day Text
  | Cancelled Text
  deriving (Show, Eq)

data OrderLine = OrderLine
  { lineItem :: Item
  , quantity :: Int
  } deriving (Show, Eq)

data Order = Order
  { orderId :: Int
  , orderLines :: [OrderLine]
  , orderStatus :: Status
  , placedOn :: Day
  , coupon :: Maybe Discount
  } deriving (Show, Eq)

data Discount = Percent Int | Flat Money
  deriving (Show, Eq)

data Priority = Low | Normal | High | Urgent
  deriving (Show, Eq, Ord, Enum, Bounded)

lineTotal :: OrderLine -> Money
lineTotal line = itemPrice (lineItem line) * quantity line

orderTotal :: Order -> Money
orderTotal order = sum (map lineTotal (orderLines order))

isOpen :: Status -> Bool
isOpen Pending = True
isOpen (Paid _) = True
isOpen _ = False

describeStatus :: Status -> Text
describeStatus status = case status of
  Pending -> T.pack "pending"
  Paid _ -> T.pack "paid"
  Shipped _ carrier -> T.pack "shipped with " <> carrier
  Cancelled why -> T.pack "cancelled: " <> why

categoryLabel :: Category -> String
categoryLabel c = case c of
  Books -> "books"
  Music -> "music"
  _ -> "other"
